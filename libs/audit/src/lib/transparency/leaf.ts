import type { AuditEventV1 } from '@grantstream/contracts';
import { canonicalJson, isSha256Hex, sha256Hex } from '../hashing';
import { TransparencyArgumentError } from './errors';
import { merkleLeafHash } from './merkle';

/**
 * Domain tag that opens every audit leaf. It names the encoding and its
 * version, so a leaf can never be read as another structure hashed into the
 * same log, and a later encoding (v2) can never collide with this one.
 */
export const AUDIT_LEAF_DOMAIN = 'grantstream-audit-leaf-v1';

/**
 * Longest record key a leaf accepts, in UTF-8 bytes. Audit keys are a grant id,
 * a colon and a 64-digit event id; the bound keeps one untrusted order entry
 * from making the verifier hash megabytes.
 */
export const MAX_AUDIT_KEY_BYTES = 1024;

/** What one leaf commits to: one committed audit record as the checkpointer read it. */
export interface AuditLeafFields {
  /** The record's Kafka key, `${grant_id}:${event_id}`, as read (not as the event implies). */
  readonly key: string;
  /** The event's `event_hash`, lower-case hex. */
  readonly eventHash: string;
  /** {@link stableContentHashOf} the event, lower-case hex. */
  readonly stableHash: string;
}

/**
 * SHA-256 (lower-case hex) of the canonical JSON of the event without
 * `occurred_at`, `previous_event_hash` and `event_hash`: what stays the same
 * when the pipeline makes the same decision again.
 *
 * Leaving out only `occurred_at` would not do: `event_hash` covers
 * `occurred_at`, and a re-made decision's successors are re-made too and point
 * to the new copy, so their `previous_event_hash` changes as well. These are
 * the fields the chain verifier already ignores when it judges two versions of
 * a key to be the same decision (`remade`, see chain-verifier.ts); which
 * predecessor an event names is judged there (FORK, GAP), not here. Any other
 * change (details, trail, action, service, payload hash) changes this hash, so
 * a rewrite is told from a re-made copy from the leaves alone.
 */
export function stableContentHashOf(event: AuditEventV1): string {
  const {
    event_hash: _hash,
    previous_event_hash: _previous,
    occurred_at: _when,
    ...stable
  } = event;
  return sha256Hex(canonicalJson(stable));
}

/** The leaf fields of a record read from the audit topic (its key as read, never recomputed). */
export function auditLeafFieldsOf(key: string, event: AuditEventV1): AuditLeafFields {
  return { key, eventHash: event.event_hash, stableHash: stableContentHashOf(event) };
}

/**
 * The problem with a leaf's fields, or undefined when they can be encoded.
 * Returned rather than thrown, because the fields often come from untrusted
 * order records.
 */
export function auditLeafProblem(fields: AuditLeafFields): string | undefined {
  const keyBytes = Buffer.byteLength(fields.key, 'utf8');
  if (keyBytes === 0 || keyBytes > MAX_AUDIT_KEY_BYTES) {
    return `key must be 1 to ${MAX_AUDIT_KEY_BYTES} UTF-8 bytes, is ${keyBytes}`;
  }
  if (!isSha256Hex(fields.eventHash)) return 'eventHash is not a lower-case hex SHA-256';
  if (!isSha256Hex(fields.stableHash)) return 'stableHash is not a lower-case hex SHA-256';
  return undefined;
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The leaf bytes: domain tag, key, event hash and stable hash, each as a
 * 4-byte big-endian length and its bytes (hashes as their 32 raw bytes). Length
 * prefixes make the encoding unambiguous: no two field tuples share bytes,
 * whatever a key contains. The encoding is pinned by a unit test and must never
 * change: every checkpoint ever signed depends on it.
 */
export function encodeAuditLeaf(fields: AuditLeafFields): Buffer {
  const problem = auditLeafProblem(fields);
  if (problem !== undefined) {
    throw new TransparencyArgumentError(`audit leaf: ${problem}`, {
      metadata: { key: fields.key },
    });
  }
  return Buffer.concat([
    lengthPrefixed(Buffer.from(AUDIT_LEAF_DOMAIN, 'utf8')),
    lengthPrefixed(Buffer.from(fields.key, 'utf8')),
    lengthPrefixed(Buffer.from(fields.eventHash, 'hex')),
    lengthPrefixed(Buffer.from(fields.stableHash, 'hex')),
  ]);
}

/**
 * Reads leaf bytes back (e.g. the `leaf` of an inclusion proof file), so an
 * auditor can match them with the event they hold. Undefined for bytes that
 * are not exactly one v1 leaf.
 */
export function decodeAuditLeaf(bytes: Uint8Array): AuditLeafFields | undefined {
  const buffer = Buffer.from(bytes);
  const fields: Buffer[] = [];
  let at = 0;
  while (at < buffer.length && fields.length < 4) {
    if (at + 4 > buffer.length) return undefined;
    const length = buffer.readUInt32BE(at);
    if (at + 4 + length > buffer.length) return undefined;
    fields.push(buffer.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const [domain, key, eventHash, stableHash] = fields;
  if (at !== buffer.length || stableHash === undefined || eventHash === undefined) return undefined;
  if (domain?.toString('utf8') !== AUDIT_LEAF_DOMAIN || key === undefined) return undefined;
  if (eventHash.length !== 32 || stableHash.length !== 32) return undefined;
  let keyText: string;
  try {
    keyText = new TextDecoder('utf-8', { fatal: true }).decode(key);
  } catch {
    return undefined;
  }
  const decoded = {
    key: keyText,
    eventHash: eventHash.toString('hex'),
    stableHash: stableHash.toString('hex'),
  };
  return auditLeafProblem(decoded) === undefined ? decoded : undefined;
}

/** RFC 9162 leaf hash of an audit leaf: SHA-256(0x00 || {@link encodeAuditLeaf}). */
export function auditLeafHash(fields: AuditLeafFields): Buffer {
  return merkleLeafHash(encodeAuditLeaf(fields));
}

/** Grant id of an audit key `${grant_id}:${event_id}`; event ids never contain ':'. */
export function grantIdOfAuditKey(key: string): string {
  const colon = key.lastIndexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}
