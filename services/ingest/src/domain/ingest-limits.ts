/**
 * Bounds ingest puts on a submission before anything downstream sees it. They
 * are business limits, not schema ones: Avro accepts any map or string, but a
 * 10,000-key metadata map or a megabyte title is a broken parser upstream.
 */
export interface IngestLimits {
  /** Regular expression (unicode) the whole grant id must match. */
  grantIdPattern: string;
  maxMetadataKeys: number;
  /** Longest metadata key, in UTF-16 code units. */
  maxMetadataKeyLength: number;
  /** Longest string anywhere in a metadata value (a scalar or an array item). */
  maxMetadataValueChars: number;
  /** Keys plus every value's text, summed over the map. */
  maxMetadataTotalChars: number;
  /**
   * Deepest nesting: the map itself is level 1 and every array (or object)
   * adds one, so 2 admits the contract's `string[]` values and nothing deeper.
   */
  maxMetadataDepth: number;
  /** Most items in any one metadata array. */
  maxArrayItems: number;
  /** Most attachment references in one submission, whatever the funder allows. */
  maxAttachments: number;
  /** Deadlines before this instant (epoch ms) are unset or in the wrong unit, not late. */
  earliestDeadline: number;
  /** Deadlines further ahead than this many days from now are garbage, not early. */
  maxDeadlineAheadDays: number;
}
