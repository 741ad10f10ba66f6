import { isUtf8 } from 'node:buffer';
import type { Type } from 'avsc';
import { AvroBodyError } from '@grantstream/errors';

/**
 * What one Avro body may cost to decode, whatever its bytes claim. avsc reads
 * an array or map block count and loops that many times before it notices the
 * buffer ran out, so these are checked on the bytes before avsc sees them.
 */
export interface AvroDecodeLimits {
  /** Largest body (the bytes after the wire header). */
  maxBodyBytes: number;
  /** Most array items plus map entries in one record, all nesting levels together. */
  maxItems: number;
  /** Longest string or bytes value. */
  maxStringBytes: number;
  /** Deepest nesting of records, arrays, maps and unions. */
  maxDepth: number;
}

/** Why a body was refused: thrown inside the walk, turned into an AvroBodyError at its edge. */
class Refused extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Where the walk is in the body, and what it has spent. */
interface Cursor {
  readonly buf: Buffer;
  pos: number;
  items: number;
  depth: number;
  readonly limits: AvroDecodeLimits;
}

/** Checks the bytes of one value of a type, advancing the cursor past them. */
type Walk = (c: Cursor) => void;

/** The compiled walk of a type and the fewest bytes one of its values takes. */
interface Plan {
  walk: Walk;
  minBytes: number;
}

/** A Type's shape, read through avsc's public accessors only. */
interface TypeShape {
  readonly typeName: string;
  readonly fields?: readonly { readonly name: string; readonly type: Type }[];
  readonly itemsType?: Type;
  readonly valuesType?: Type;
  readonly types?: readonly Type[];
  readonly underlyingType?: Type;
  readonly symbols?: readonly string[];
  readonly size?: number;
}

/** An Avro varint is at most ten bytes (a zig-zag 64-bit long). */
const MAX_VARINT_BYTES = 10;

/**
 * Reads a zig-zag varint as a JS number. Beyond 2^53 the value is approximate,
 * which is enough: anything that large fails every bound it is compared with.
 */
function readLong(c: Cursor): number {
  const { buf } = c;
  const first = buf[c.pos];
  // Most counts, lengths and indexes fit one byte.
  if (first !== undefined && first < 0x80) {
    c.pos += 1;
    return first & 1 ? -((first + 1) / 2) : first / 2;
  }
  let n = 0;
  let scale = 1;
  for (let i = 0; ; i += 1) {
    if (i === MAX_VARINT_BYTES) throw new Refused('a varint runs over ten bytes', c.pos);
    if (c.pos >= buf.length) throw new Refused('the body ends inside a varint', c.pos);
    const b = buf[c.pos++] as number;
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) break;
    scale *= 128;
  }
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function need(c: Cursor, bytes: number, what: string): void {
  if (bytes > c.buf.length - c.pos) {
    throw new Refused(`${what} needs ${bytes} byte(s) but ${c.buf.length - c.pos} remain`, c.pos);
  }
}

function fixedWidth(bytes: number, what: string): Plan {
  return {
    minBytes: bytes,
    walk: (c) => {
      need(c, bytes, what);
      c.pos += bytes;
    },
  };
}

const varint: Plan = { minBytes: 1, walk: (c) => void readLong(c) };

/**
 * A string or bytes value: its claimed length is checked against the limit and
 * the bytes that remain. Strings (and map keys) must also be valid UTF-8, as
 * the Avro spec requires: avsc would quietly turn a malformed sequence into
 * U+FFFD, and the altered text would travel on as if it had been sent.
 */
const lengthPrefixed = (what: string, utf8: boolean): Plan => ({
  minBytes: 1,
  walk: (c) => {
    const at = c.pos;
    const len = readLong(c);
    if (len < 0) throw new Refused(`${what} claims a negative length ${len}`, at);
    if (len > c.limits.maxStringBytes) {
      throw new Refused(
        `${what} claims ${len} bytes; values are limited to ${c.limits.maxStringBytes}`,
        at,
      );
    }
    need(c, len, `${what} of ${len} bytes`);
    if (utf8 && !isUtf8(c.buf.subarray(c.pos, c.pos + len))) {
      throw new Refused(`${what} of ${len} bytes is not valid UTF-8`, c.pos);
    }
    c.pos += len;
  },
});

function enter(c: Cursor): void {
  c.depth += 1;
  if (c.depth > c.limits.maxDepth) {
    throw new Refused(`values nest deeper than ${c.limits.maxDepth} levels`, c.pos);
  }
}

/**
 * Array and map blocks. A block count is checked against the bytes that
 * remain (each item takes at least `itemMinBytes`) and against the record's
 * item budget before a single item is read; a negative count's byte size
 * must be exactly what its items take, since a reader that skips the block
 * trusts it (a size pointing backwards would loop forever).
 */
function blocks(what: string, item: () => Plan, entryKey: Plan | null): Plan {
  let itemPlan: Plan | undefined;
  return {
    minBytes: 1,
    walk: (c) => {
      enter(c);
      // Resolved on first use: a recursive item type is still compiling when this plan is made.
      itemPlan ??= item();
      const { walk, minBytes } = itemPlan;
      const itemMin = minBytes + (entryKey ? entryKey.minBytes : 0);
      for (;;) {
        const at = c.pos;
        let count = readLong(c);
        if (count === 0) break;
        let size = -1;
        if (count < 0) {
          count = -count;
          const sizeAt = c.pos;
          size = readLong(c);
          if (size < 0) throw new Refused(`${what} block claims a negative size ${size}`, sizeAt);
          need(c, size, `${what} block of ${size} bytes`);
        }
        const itemsAt = c.pos;
        c.items += count;
        if (c.items > c.limits.maxItems) {
          throw new Refused(
            `${what} block claims ${count} items; a record may hold ${c.limits.maxItems}`,
            at,
          );
        }
        if (itemMin > 0) need(c, count * itemMin, `${what} block of ${count} items`);
        for (let i = 0; i < count; i += 1) {
          entryKey?.walk(c);
          walk(c);
        }
        if (size >= 0 && c.pos - itemsAt !== size) {
          throw new Refused(
            `${what} block declares ${size} bytes but its items take ${c.pos - itemsAt}`,
            at,
          );
        }
      }
      c.depth -= 1;
    },
  };
}

/**
 * Compiles (once per Type) the walk that checks a body against its writer
 * type. Recursive named types refer to their plan lazily, so a cycle compiles.
 */
class Planner {
  private readonly plans = new WeakMap<Type, Plan>();

  planOf(type: Type): Plan {
    const known = this.plans.get(type);
    if (known) return known;
    // A placeholder answers recursive references while the type compiles: its
    // minimum of 0 bytes is a safe lower bound for a type that contains itself.
    const placeholder: Plan = { minBytes: 0, walk: (c) => this.planOf(type).walk(c) };
    this.plans.set(type, placeholder);
    const plan = this.compile(type);
    this.plans.set(type, plan);
    return plan;
  }

  private compile(type: Type): Plan {
    const shape = type as unknown as TypeShape;
    const name = shape.typeName;
    if (name.startsWith('logical:') && shape.underlyingType) {
      return this.planOf(shape.underlyingType);
    }
    switch (name) {
      case 'null':
        return { minBytes: 0, walk: () => undefined };
      case 'boolean':
        return fixedWidth(1, 'a boolean');
      case 'int':
      case 'long':
        return varint;
      case 'float':
        return fixedWidth(4, 'a float');
      case 'double':
        return fixedWidth(8, 'a double');
      case 'string':
        return lengthPrefixed('a string', true);
      case 'bytes':
        return lengthPrefixed('a bytes value', false);
      case 'fixed':
        return fixedWidth(shape.size ?? 0, `a fixed of ${shape.size ?? 0} bytes`);
      case 'enum':
        return this.indexed('an enum', shape.symbols?.length ?? 0, null);
      case 'array':
        return blocks('an array', () => this.planOf(shape.itemsType as Type), null);
      case 'map':
        return blocks(
          'a map',
          () => this.planOf(shape.valuesType as Type),
          lengthPrefixed('a map key', true),
        );
      case 'record':
      case 'error':
        return this.record(shape.fields ?? []);
      default:
        if (name.startsWith('union') && shape.types) {
          return this.indexed('a union', shape.types.length, shape.types);
        }
        throw new Error(`no bounded walk for Avro type ${name}`);
    }
  }

  private record(fields: readonly { readonly type: Type }[]): Plan {
    const plans = fields.map((f) => this.planOf(f.type));
    return {
      // Fields that are still placeholders count 0: a lower bound stays a lower bound.
      minBytes: plans.reduce((sum, p) => sum + p.minBytes, 0),
      walk: (c) => {
        enter(c);
        for (const p of plans) p.walk(c);
        c.depth -= 1;
      },
    };
  }

  /** An enum symbol or a union branch: an index below `count`, then the branch's value. */
  private indexed(what: string, count: number, branches: readonly Type[] | null): Plan {
    return {
      minBytes: 1,
      walk: (c) => {
        const at = c.pos;
        const index = readLong(c);
        if (index < 0 || index >= count) {
          throw new Refused(`${what} index ${index} is outside 0..${count - 1}`, at);
        }
        if (branches) {
          enter(c);
          this.planOf(branches[index] as Type).walk(c);
          c.depth -= 1;
        }
      },
    };
  }
}

const planner = new Planner();

/**
 * Proves an Avro body can be decoded with its writer type in bounded time and
 * memory before avsc decodes it: no block count, string or bytes length claims
 * more than the bytes that remain can hold, the record stays within `limits`,
 * and the body ends where its last value does. Costs one pass over the bytes,
 * allocating nothing per item.
 * @throws AvroBodyError (SCHEMA_BODY_INVALID, permanent) naming the first lie and its position.
 */
export function assertBoundedBody(writer: Type, body: Buffer, limits: AvroDecodeLimits): void {
  const fail = (reason: string, at: number) =>
    new AvroBodyError(`Avro body refused before decoding: ${reason} (at byte ${at})`, {
      metadata: { bodyBytes: body.length, at, reason },
    });
  if (body.length > limits.maxBodyBytes) {
    throw fail(`the body is ${body.length} bytes; bodies are limited to ${limits.maxBodyBytes}`, 0);
  }
  const cursor: Cursor = { buf: body, pos: 0, items: 0, depth: 0, limits };
  try {
    planner.planOf(writer).walk(cursor);
  } catch (err) {
    if (err instanceof Refused) throw fail(err.message, err.at);
    // A nesting the depth bound did not stop (a stack that was already deep):
    // still the body's fault, never the process's.
    if (err instanceof RangeError) throw fail(err.message, cursor.pos);
    throw err;
  }
  if (cursor.pos !== body.length) {
    throw fail(`${body.length - cursor.pos} byte(s) follow the record`, cursor.pos);
  }
}
