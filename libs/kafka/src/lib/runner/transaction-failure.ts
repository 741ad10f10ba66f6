/**
 * Broker error types that refuse the records themselves: the same records
 * are refused on every try, whatever the broker's health. A chunk failing
 * with one of them is split to find the input at fault, never retried whole.
 */
export const RECORD_REFUSAL_TYPES: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

/**
 * Broker error types by which the group coordinator refuses a transactional
 * offset commit whose group metadata (KIP-447) is no longer current: the
 * member was evicted or the group moved to a new generation, so the
 * partition may belong to another member now. The chunk is dropped, never
 * retried: whoever owns the partition processes it from the committed offset.
 */
export const GROUP_FENCING_TYPES: ReadonlySet<string> = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
  'REBALANCE_IN_PROGRESS',
]);

/** Why a transaction failed, as far as splitting or dropping its chunk is concerned. */
export type TransactionFailure =
  | {
      kind: 'refused';
      /** The broker's error type (MESSAGE_TOO_LARGE ...), or the client's error name. */
      type: string;
    }
  | {
      kind: 'lost';
      /** The group coordinator's error type (ILLEGAL_GENERATION ...). */
      type: string;
    }
  | { kind: 'infrastructure' };

const MAX_CAUSE_DEPTH = 8;

/**
 * Classifies what a transaction threw. kafkajs reports a broker refusal as a
 * KafkaJSProtocolError whose `type` names it, possibly wrapped (a retrier's
 * KafkaJSNumberOfRetriesExceeded keeps it as `cause`): the chain is walked
 * for a refusal type. Everything else from kafkajs (connection lost, request
 * timed out, coordinator moved, producer fenced) is infrastructure: retrying the same
 * chunk is right, and splitting it would only multiply the tries. A commit
 * refused for stale group metadata means the partition was lost. An error
 * that is no KafkaJS error at all (a header kafkajs cannot encode) came from
 * the records: it is a refusal too.
 */
export function classifyTransactionFailure(err: unknown): TransactionFailure {
  let sawKafkaError = false;
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    const { name } = current;
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && RECORD_REFUSAL_TYPES.has(type))
      return { kind: 'refused', type };
    if (typeof type === 'string' && GROUP_FENCING_TYPES.has(type)) return { kind: 'lost', type };
    if (name.startsWith('KafkaJS')) sawKafkaError = true;
    current = (current as { cause?: unknown }).cause;
  }
  if (!sawKafkaError && (err instanceof TypeError || err instanceof RangeError))
    return { kind: 'refused', type: err.name };
  return { kind: 'infrastructure' };
}

/**
 * The error in `err`'s cause chain whose broker error type is `type`, so
 * the client sees the broker's own error (kafkajs rejoins its group on
 * ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID); `err` itself when none is.
 */
export function causeOfType(err: Error, type: string): Error {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    if ((current as { type?: unknown }).type === type) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return err;
}
