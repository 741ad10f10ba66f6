import { TransparencyArgumentError } from './errors';
import { MERKLE_HASH_BYTES } from './merkle';

/**
 * An inclusion proof as a self-contained JSON document, the input of the
 * standalone verifier (tools/audit-proof-verifier/verify.mjs, whose README
 * describes each field). Everything an auditor needs is inside, the trusted
 * verifier key included, so the proof can be checked years later with nothing
 * but Node; the auditor must still compare that key with one obtained out of
 * band, since a file can carry any key.
 */
export interface InclusionProofFile {
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
  /** The log's verifier key, `<name>+<hex key id>+<base64(0x01 || public key)>`. */
  readonly verifierKey: string;
  /** Base64 of the leaf bytes (the audit event as appended); or give `leafHash`. */
  readonly leaf?: string;
  /** Base64 of the RFC 9162 leaf hash, when the leaf bytes are not disclosed. */
  readonly leafHash?: string;
  readonly leafIndex: number;
  /** Must equal the checkpoint's tree size. */
  readonly treeSize: number;
  /** Base64 proof hashes, leaf side first. */
  readonly inclusionPath: readonly string[];
}

/** What {@link inclusionProofFile} needs: exactly one of `leaf` or `leafHash`. */
export interface InclusionProofInput {
  readonly checkpoint: string;
  readonly verifierKey: string;
  readonly leaf?: Uint8Array;
  readonly leafHash?: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly path: readonly Uint8Array[];
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/**
 * Builds the proof document. Disclosing the leaf lets the verifier hash the
 * event itself (it proves these bytes are logged); a bare leaf hash proves
 * only that some event with that hash is, for when the event must stay private.
 */
export function inclusionProofFile(input: InclusionProofInput): InclusionProofFile {
  const { leaf, leafHash } = input;
  if ((leaf === undefined) === (leafHash === undefined)) {
    throw new TransparencyArgumentError('give exactly one of leaf or leafHash');
  }
  if (leafHash !== undefined && leafHash.length !== MERKLE_HASH_BYTES) {
    throw new TransparencyArgumentError('leafHash must be 32 bytes');
  }
  return {
    checkpoint: input.checkpoint,
    verifierKey: input.verifierKey,
    ...(leaf === undefined ? {} : { leaf: base64(leaf) }),
    ...(leafHash === undefined ? {} : { leafHash: base64(leafHash) }),
    leafIndex: input.leafIndex,
    treeSize: input.treeSize,
    inclusionPath: input.path.map(base64),
  };
}
