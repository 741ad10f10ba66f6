import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** The cost of new hashes (`console.scrypt` of the configuration). */
export interface ScryptCost {
  cost: number;
  blockSize: number;
  parallelization: number;
  keyBytes: number;
  saltBytes: number;
  maxMemoryBytes: number;
}

const PREFIX = 'scrypt';

function derive(
  password: string,
  salt: Buffer,
  keyBytes: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * A password hash as the users file stores it:
 * `scrypt$<N>$<r>$<p>$<salt base64>$<key base64>`. scrypt is memory-hard and
 * in node:crypto, so no dependency; the parameters travel with the hash, so
 * raising the cost later leaves existing hashes valid.
 */
export async function hashPassword(password: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(cost.saltBytes);
  const key = await derive(password, salt, cost.keyBytes, {
    N: cost.cost,
    r: cost.blockSize,
    p: cost.parallelization,
    maxmem: cost.maxMemoryBytes,
  });
  return [
    PREFIX,
    cost.cost,
    cost.blockSize,
    cost.parallelization,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

/** The parts of a stored hash, or null when it is not one. */
export function parsePasswordHash(
  stored: string,
): { N: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^\d+$/.test(x ?? '') ? Number(x) : Number.NaN));
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const key = Buffer.from(parts[5] ?? '', 'base64');
  if (!N || !r || !p || salt.length < 16 || key.length < 16) return null;
  return { N, r, p, salt, key };
}

/**
 * Whether `password` matches `stored`. The comparison takes the same time
 * whatever the first differing byte; a malformed hash matches nothing.
 */
export async function verifyPassword(
  password: string,
  stored: string,
  maxMemoryBytes: number,
): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (parsed === null) return false;
  const key = await derive(password, parsed.salt, parsed.key.length, {
    N: parsed.N,
    r: parsed.r,
    p: parsed.p,
    maxmem: maxMemoryBytes,
  });
  return timingSafeEqual(key, parsed.key);
}
