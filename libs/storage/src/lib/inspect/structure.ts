/**
 * Codes of the structural defects {@link inspectAttachment} finds by type.
 * Each is a problem code of ATTACHMENT_INVALID; how serious it is for a
 * funder is the funder's rule pack's call, not the reader's.
 */
export const STRUCTURE_CODES = [
  'PDF_HEADER_INVALID',
  'PDF_TRUNCATED',
  'PDF_XREF_MISSING',
  'PDF_ENCRYPTED',
  'PDF_ACTIVE_CONTENT',
  'PDF_UNSCANNABLE',
  'ZIP_EOCD_MISSING',
  'ZIP_CENTRAL_DIRECTORY_INVALID',
  'ZIP64_UNSUPPORTED',
  'ZIP_TOO_MANY_ENTRIES',
  'ZIP_BOMB',
  'ZIP_PATH_TRAVERSAL',
  'ZIP_ENCRYPTED',
  'ZIP_UNSCANNABLE',
] as const;
/** One of {@link STRUCTURE_CODES}. */
export type StructureCode = (typeof STRUCTURE_CODES)[number];

/** One structural defect of an attachment. */
export interface StructureFinding {
  code: StructureCode;
  /** What is wrong, with the numbers, for the person who fixes the file. */
  message: string;
}

/** Bounds of the PDF scan. */
export interface PdfScanLimits {
  /** Trailing bytes kept to find %%EOF, startxref and a nearby cross-reference section. */
  tailBytes: number;
  /** Bytes read at the startxref offset to confirm a cross-reference section starts there. */
  xrefProbeBytes: number;
  /** Compressed object streams (PDF 1.5) inflated and scanned per file; more is unscannable. */
  maxObjectStreams: number;
  /** Largest compressed object stream kept for inflating. */
  maxObjectStreamBytes: number;
  /** Largest inflated object stream. */
  maxInflatedBytes: number;
}

/** Bounds of the ZIP central-directory check (XLSX, DOCX, PPTX and plain ZIP). */
export interface ZipScanLimits {
  /** Trailing bytes kept; at least 65,557 (the largest EOCD record with its comment). */
  tailBytes: number;
  /** Entries a package may declare. */
  maxEntries: number;
  /** Largest central directory read. */
  maxCentralDirectoryBytes: number;
  /** Largest total of the declared uncompressed sizes. */
  maxUncompressedBytes: number;
  /** Largest declared uncompressed/compressed ratio of one entry... */
  maxCompressionRatio: number;
  /** ...judged only for entries declaring at least this many uncompressed bytes. */
  compressionRatioMinBytes: number;
}

/** Bounds of the structural scan of one attachment. */
export interface StructureLimits {
  pdf: PdfScanLimits;
  zip: ZipScanLimits;
  /** Longest one attachment's inspection may take, reading included. */
  timeoutMs: number;
}

/**
 * Reads `length` bytes from `start` of the attachment being inspected (fewer
 * at its end): a store that serves ranges lets a check look where a trailer
 * points without keeping the whole file.
 */
export type RangeReader = (start: number, length: number) => Promise<Buffer>;
