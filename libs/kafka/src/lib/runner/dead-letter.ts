import { createHash } from 'node:crypto';
import { DLQ_HEADERS } from '@grantstream/contracts';
import type { PipelineError } from '@grantstream/errors';
import type { OutgoingMessage } from '../topic-io';
import { messageBytes } from './produce-requests';

/** Where a dead-lettered message came from and why it failed. */
export interface DeadLetterContext {
  stage: string;
  service: string;
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  error: PipelineError;
  failedAt: Date;
}

/** The raw input a dead letter preserves. */
export interface RawInput {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | undefined>;
  /**
   * The value already in the dead-letter store (an input too large to hold
   * in memory, streamed there): the dead letter carries this reference.
   */
  stored?: { uri: string; sha256: string; size: number };
}

/** Longest reason text carried in a header; reasons are for people, the full error is in the logs. */
const MAX_REASON_CHARS = 1000;

/**
 * The dead letter of one input: its key, value and headers byte for byte
 * (so it can be fixed and redriven as it was), plus the dead-letter headers
 * of schemas/dlq/dead-letter-headers.v1.json. A header of the input that has
 * a dead-letter name (a message dead-lettered before) is replaced, and the
 * redrive count is kept. `extraHeaders` (the dead letter's audit head)
 * replace input headers of the same name.
 */
export function deadLetterOf(
  input: RawInput,
  ctx: DeadLetterContext,
  extraHeaders: Readonly<Record<string, string>> = {},
): OutgoingMessage {
  const headers: Record<string, string | Buffer> = {};
  for (const [k, v] of Object.entries(input.headers)) if (v !== undefined) headers[k] = v;
  const reason =
    ctx.error.message.length > MAX_REASON_CHARS
      ? `${ctx.error.message.slice(0, MAX_REASON_CHARS)}…`
      : ctx.error.message;
  Object.assign(headers, extraHeaders, {
    [DLQ_HEADERS.STAGE]: ctx.stage,
    [DLQ_HEADERS.SERVICE]: ctx.service,
    [DLQ_HEADERS.SOURCE_TOPIC]: ctx.topic,
    [DLQ_HEADERS.SOURCE_PARTITION]: String(ctx.partition),
    [DLQ_HEADERS.SOURCE_OFFSET]: ctx.offset,
    [DLQ_HEADERS.ERROR_CATEGORY]: ctx.error.category,
    [DLQ_HEADERS.ERROR_CODE]: ctx.error.code,
    [DLQ_HEADERS.REASON]: reason,
    [DLQ_HEADERS.ATTEMPTS]: String(ctx.attempts),
    [DLQ_HEADERS.FAILED_AT]: ctx.failedAt.toISOString(),
  });
  return { key: input.key, value: input.value, headers };
}

/** Where a dead letter's value bytes can be kept when they do not fit the broker (the dead-letter store). */
export interface DeadLetterValueStore {
  /** Stores the bytes (idempotently: the same bytes, the same reference) and says where. */
  put(bytes: Buffer): Promise<{ uri: string; sha256: string; size: number }>;
  /** Stores bytes written piece by piece (a value never whole in memory). */
  putStreamed?(
    fill: (write: (piece: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<{ uri: string; sha256: string; size: number }>;
}

/**
 * How much of the original a dead letter carries: everything (`inline`); its
 * key and headers with the value by reference (`referenced`); or only the
 * dead-letter headers and the reference (`minimal`: the original's own
 * headers, and its key when needed, would not fit either).
 */
export type DeadLetterForm = 'inline' | 'referenced' | 'minimal';

/** A dead letter fitted to the broker's record limit. */
export interface FittedDeadLetter {
  message: OutgoingMessage;
  form: DeadLetterForm;
  /** Set when the value had to leave the dead letter but the store refused it. */
  storeError?: Error;
}

/** Options of {@link fitDeadLetter}. */
export interface FitOptions {
  /** The largest record the broker takes (runner.maxRecordBytes, below message.max.bytes). */
  maxRecordBytes: number;
  store: DeadLetterValueStore;
  /** Start at this form, whatever the size (the broker refused a larger one). */
  atLeast?: DeadLetterForm;
}

const FORMS: readonly DeadLetterForm[] = ['inline', 'referenced', 'minimal'];

/**
 * The dead letter of `input`, as small as it must be. The size is computed
 * up front against maxRecordBytes: a dead letter copies the input's value
 * uncompressed plus every header, so an input that fitted the broker
 * compressed can yield a dead letter it refuses, and that refusal would fail
 * the chunk's transaction on every try. Such a dead letter keeps its key and
 * headers and carries a reference to the value's bytes in the store, with
 * their SHA-256 and size, instead of the bytes; if even that is too large,
 * the original headers (then the key) are left out too, and
 * grantstream.dlq.omitted says so. A store that fails costs the bytes' copy,
 * never the dead letter: the source position still names the original.
 */
export async function fitDeadLetter(
  input: RawInput,
  ctx: DeadLetterContext,
  extraHeaders: Readonly<Record<string, string>>,
  options: FitOptions,
): Promise<FittedDeadLetter> {
  const start = Math.max(FORMS.indexOf(options.atLeast ?? 'inline'), input.stored ? 1 : 0);
  const full = deadLetterOf(input, ctx, extraHeaders);
  if (start === 0 && messageBytes(full) <= options.maxRecordBytes)
    return { message: full, form: 'inline' };

  const reference: Record<string, string> = {};
  let storeError: Error | undefined;
  if (input.stored) {
    reference[DLQ_HEADERS.VALUE_REF] = input.stored.uri;
    reference[DLQ_HEADERS.VALUE_SHA256] = input.stored.sha256;
    reference[DLQ_HEADERS.VALUE_BYTES] = String(input.stored.size);
  } else if (input.value !== null) {
    try {
      const stored = await options.store.put(input.value);
      reference[DLQ_HEADERS.VALUE_REF] = stored.uri;
      reference[DLQ_HEADERS.VALUE_SHA256] = stored.sha256;
      reference[DLQ_HEADERS.VALUE_BYTES] = String(stored.size);
    } catch (err) {
      storeError = err instanceof Error ? err : new Error(String(err));
      reference[DLQ_HEADERS.VALUE_SHA256] = createHash('sha256').update(input.value).digest('hex');
      reference[DLQ_HEADERS.VALUE_BYTES] = String(input.value.length);
    }
  }
  const omitting = (parts: string[], message: OutgoingMessage): OutgoingMessage => ({
    ...message,
    value: null,
    headers: {
      ...message.headers,
      ...reference,
      [DLQ_HEADERS.OMITTED]: parts.join(','),
    },
  });
  const withError = (f: FittedDeadLetter): FittedDeadLetter =>
    storeError ? { ...f, storeError } : f;
  const valueParts = input.value === null && !input.stored ? [] : ['value'];

  if (start <= 1) {
    const referenced = omitting(valueParts, full);
    if (messageBytes(referenced) <= options.maxRecordBytes)
      return withError({ message: referenced, form: 'referenced' });
  }
  const bare = deadLetterOf({ key: input.key, value: null, headers: {} }, ctx, extraHeaders);
  const keyed = omitting([...valueParts, 'headers'], bare);
  if (messageBytes(keyed) <= options.maxRecordBytes)
    return withError({ message: keyed, form: 'minimal' });
  return withError({
    message: omitting([...valueParts, 'key', 'headers'], { ...bare, key: null }),
    form: 'minimal',
  });
}
