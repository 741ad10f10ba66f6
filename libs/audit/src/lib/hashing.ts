import { createHash } from 'node:crypto';

/**
 * `previous_event_hash` of a grant's first audit event. A fixed, well-formed
 * SHA-256-sized value (rather than an empty string) keeps every link of the
 * chain the same shape, so verification has one rule: a link points either to
 * genesis or to the hash of another event of the same grant.
 */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted recursively (UTF-16 code-unit order),
 * no whitespace, arrays in order, properties whose value is `undefined` omitted
 * (as `JSON.stringify` does). Ids and hashes are computed over this encoding so
 * the same logical value hashes identically on every service, Node version and
 * replay, whatever order its properties were assigned in.
 *
 * Throws `TypeError` for values with no stable JSON form (non-finite numbers,
 * bigint, a top-level `undefined`): silently encoding them as `null` would let
 * two different inputs share a hash.
 */
export function canonicalJson(value: unknown): string {
  const encoded = encode(value);
  if (encoded === undefined) throw new TypeError('canonicalJson: value has no JSON form');
  return encoded;
}

function encode(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError('canonicalJson: bigint has no JSON form');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return encodeObject(value);
  }
}

function encodeObject(value: object): string | undefined {
  // Honour toJSON (Date, Buffer) exactly as JSON.stringify would.
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    return encode((withToJson.toJSON as () => unknown).call(value));
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => encode(item) ?? 'null').join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const encoded = encode(record[key]);
    if (encoded !== undefined) members.push(`${JSON.stringify(key)}:${encoded}`);
  }
  return `{${members.join(',')}}`;
}

/** Lower-case hex SHA-256; strings are hashed as their UTF-8 bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `payload_hash` of an audit event: SHA-256 of the raw message value the
 * decision was made on, before any decoding, so an auditor can match it against
 * the bytes still on the input topic or in a dead letter. A null value
 * (tombstone or empty message) hashes as the empty byte string.
 */
export function payloadHashOf(bytes: Buffer | null): string {
  return sha256Hex(bytes ?? Buffer.alloc(0));
}

const HEX_64 = /^[0-9a-f]{64}$/;

/** True for a lower-case hex SHA-256 digest, the shape of every hash in an audit event. */
export function isSha256Hex(value: string): boolean {
  return HEX_64.test(value);
}
