/**
 * The audit trail as pure code: building hash-chained AuditEvent v1 records
 * with deterministic ids and keys, verifying a replayed topic, filtering and
 * formatting for replay and export, and evidence bundles per grant. No Kafka
 * and no I/O: services and grantctl do the producing and reading.
 */
export { AUDIT_GENESIS_HASH, canonicalJson, payloadHashOf, sha256Hex } from './lib/hashing';
export {
  COMPLIANCE_TAGS,
  DISCRIMINATOR_DETAIL,
  auditKeyOf,
  buildAuditEvent,
  computeEventHash,
  eventIdOf,
  type AuditDecision,
} from './lib/audit-event';
export { chainOrder, orderTrails, trailStart, type TrailItem } from './lib/chain';
export { TrailIndex, type PayloadRef } from './lib/trail-index';
export {
  ANNOTATION_ACTIONS,
  ChainVerifier,
  firstBadEvent,
  type AuditRecord,
  type Finding,
  type FindingKind,
  type GrantTrails,
  type TrailLink,
  type TrailLinkKind,
  type TrailSummary,
  type VerificationReport,
} from './lib/chain-verifier';
export { matchesFilter, type AuditFilter } from './lib/filter';
export { CSV_COLUMNS, csvHeader, isoOf, toCsvRow, toJsonLine } from './lib/format';
export {
  buildEvidenceBundle,
  escapeHtml,
  type EvidenceBundle,
  type EvidenceLeaf,
  type EvidenceTimelineEntry,
  type EvidenceTransparency,
} from './lib/evidence-bundle';
export {
  AUDIT_HEAD_HEADER,
  AUDIT_TRAIL_HEADER,
  auditTrailIdOfHeaders,
  auditTrailIdFor,
  previousEventHashOf,
  trailStartDiscriminator,
  stageAuditRecord,
  type StageAuditRecord,
} from './lib/stage-trail';
export {
  CONTENT_HASH_DETAIL,
  DUPLICATE_ACTION,
  DUPLICATE_OF_TRAIL_DETAIL,
  DUPLICATE_OUTCOME,
  RESUBMISSION_OF_TRAIL_DETAIL,
  TRANSPORT_ONLY_FIELDS,
  contentHashOf,
  isDuplicateEvent,
} from './lib/content-identity';
export { TransparencyArgumentError } from './lib/transparency/errors';
export {
  MAX_PROOF_HASHES,
  MERKLE_HASH_BYTES,
  MerkleLog,
  consistencyProof,
  emptyTreeHash,
  inclusionProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleTreeHash,
  verifyConsistency,
  verifyInclusion,
  type ConsistencyClaim,
  type InclusionClaim,
  type LeafHashSource,
  type LeafHashes,
  type ProofFailureReason,
  type ProofVerdict,
} from './lib/transparency/merkle';
export {
  ED25519_SIGNATURE_TYPE,
  formatVerifierKey,
  generateNoteKey,
  isValidKeyName,
  noteKeyId,
  noteSignerFromPrivateKey,
  openNote,
  parseVerifierKey,
  signNote,
  type NoteLimits,
  type NoteRefusal,
  type NoteResult,
  type NoteSigner,
  type NoteVerifier,
  type VerifierKeyRefusal,
  type VerifierKeyResult,
} from './lib/transparency/signed-note';
export {
  CHECKPOINT_TIME_KEYWORD,
  formatCheckpointBody,
  openCheckpoint,
  parseCheckpointBody,
  signCheckpoint,
  type Checkpoint,
  type CheckpointBodyResult,
  type CheckpointExpectations,
  type CheckpointRefusal,
  type CheckpointRefused,
  type CheckpointResult,
} from './lib/transparency/checkpoint';
export {
  inclusionProofFile,
  type InclusionProofFile,
  type InclusionProofInput,
} from './lib/transparency/proof-file';
export { statedNoteSigners, type StatedNoteSigner } from './lib/transparency/signed-note';
export {
  AUDIT_LEAF_DOMAIN,
  MAX_AUDIT_KEY_BYTES,
  auditLeafFieldsOf,
  auditLeafHash,
  auditLeafProblem,
  decodeAuditLeaf,
  encodeAuditLeaf,
  grantIdOfAuditKey,
  stableContentHashOf,
  type AuditLeafFields,
} from './lib/transparency/leaf';
export {
  checkOrderBatch,
  checkpointDue,
  leafHashesOfBatches,
  resumeLogFromBatches,
  validateOrderBatches,
  type CheckpointDecision,
  type CheckpointPolicy,
  type CheckpointPolicyState,
  type LeafRebuild,
  type LogResume,
  type LogOrderBatch,
  type LogOrderEntry,
  type OrderLimits,
  type OrderProblem,
  type OrderProblemKind,
  type OrderValidation,
} from './lib/transparency/leaf-order';
export {
  LogVerifier,
  judgeKeyLeaves,
  verifyLog,
  type CheckpointedLeaf,
  type KeyJudgement,
  type CheckpointNoteRef,
  type LogFinding,
  type LogFindingKind,
  type LogNoticeKind,
  type LogVerificationReport,
  type LogVerifierOptions,
  type TopicLookup,
  type TopicRecordRef,
} from './lib/transparency/log-verifier';
export {
  leavesOfGrant,
  proveGrant,
  verifyProofFile,
  type GrantEventProof,
  type GrantLeaf,
  type GrantProofInput,
  type GrantProofRefusal,
  type GrantProofResult,
  type ProofFileVerdict,
} from './lib/transparency/grant-proof';
export {
  checkpointKeyOf,
  checkpointNoteOfRecord,
  checkpointRecordOf,
  orderBatchKeyOf,
  orderBatchOfRecord,
  orderBatchRecordOf,
  type CheckpointRecordRefusal,
  type CheckpointRecordResult,
  type OrderRecordExpectations,
  type OrderRecordRefusal,
  type OrderRecordResult,
} from './lib/transparency/log-records';
