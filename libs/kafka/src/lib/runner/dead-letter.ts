import { DLQ_HEADERS } from '@grantstream/contracts';
import type { PipelineError } from '@grantstream/errors';
import type { OutgoingMessage } from '../topic-io';

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
