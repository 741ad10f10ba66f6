import { TopicReader, type TopicReadOptions } from './topic-reader';

// The audit, dead-letter, read-model and state-restoring readers know the
// group-less reader as TopicScanner. It is the TopicReader, on the public
// partition reader of our kafkajs fork: no private client module, no private
// symbol, one implementation.

/** Options of {@link TopicScanner.scan}: those of {@link TopicReader.scan}. */
export type ScanOptions = TopicReadOptions;

/**
 * Reads a whole topic from its first offset to the end it had when the scan
 * started, partition by partition, WITHOUT a consumer group: it never creates
 * a group and never commits or moves anyone's offsets. Reads are
 * read_committed. Memory is bounded by one fetch. The {@link TopicReader}.
 */
export const TopicScanner = TopicReader;
/** The {@link TopicReader}. */
export type TopicScanner = TopicReader;
