/**
 * Avro binary encoding written by hand, so a hostile body can say anything:
 * a count no buffer holds, a negative length, a varint that never ends.
 * (avsc refuses to write such bytes, which is the point of writing them here.)
 */

/** A zig-zag varint of any 64-bit value (bigint for values beyond 2^53). */
export function avroLong(value: number | bigint): Buffer {
  const n = BigInt(value);
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    out.push(b);
  } while (z > 0n);
  return Buffer.from(out);
}

/** A length-prefixed string (UTF-8) or raw bytes. */
export function avroString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([avroLong(bytes.length), bytes]);
}

/** A union branch index followed by the branch's bytes. */
export function avroBranch(index: number, bytes: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([avroLong(index), bytes]);
}

/** A varint whose continuation bit never clears within ten bytes: no valid long is this long. */
export function overlongVarint(bytes: number): Buffer {
  return Buffer.alloc(bytes, 0xff);
}

/** Confluent wire framing: magic byte, big-endian schema id, body. */
export function framed(schemaId: number, body: Buffer, magic = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(magic, 0);
  header.writeUInt32BE(schemaId >>> 0, 1);
  return Buffer.concat([header, body]);
}
