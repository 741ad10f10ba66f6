/**
 * Attachment storage: claim-check references (URIs) turned back into byte
 * streams, confined to configured roots, and inspected in one bounded-memory
 * pass (SHA-256, size, sniffed media type). Node I/O lives here so stage
 * domain code can stay pure.
 */
export {
  AttachmentStores,
  readBounded,
  type AttachmentStore,
  type ByteRange,
  type OpenOptions,
} from './lib/attachment-store';
export {
  FILE_READ_CHUNK_BYTES,
  FileAttachmentStore,
  type FileAttachmentStoreOptions,
} from './lib/file-attachment-store';
export {
  inspectAttachment,
  type InspectOptions,
  type InspectedAttachment,
  type StructureOptions,
} from './lib/inspect-attachment';
export {
  STRUCTURE_CODES,
  type PdfScanLimits,
  type RangeReader,
  type StructureCode,
  type StructureFinding,
  type StructureLimits,
  type ZipScanLimits,
} from './lib/inspect/structure';
export { OOXML_PARTS, unsafeEntryName } from './lib/inspect/zip';
export { EXECUTABLE_MEDIA_TYPES, MEDIA_TYPES, sniffMediaType } from './lib/sniff-media-type';
export { ContentAddressedFileStore, type StoredBytes } from './lib/content-addressed-store';
export {
  DirectoryWitnessStore,
  type WitnessObject,
  type WitnessPut,
  type WitnessReadLimits,
  type WitnessStore,
} from './lib/witness-store';
