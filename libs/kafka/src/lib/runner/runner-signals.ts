/**
 * The runner's internal signals between its units: errors that carry a
 * decision (drop the chunk, split it, rejoin the group) rather than a fault
 * of an input, and the helpers every unit shares. Not exported from the lib.
 */

/** Marks a chunk that must not commit because the runner is stopping or lost the partition. */
export class Interrupted extends Error {}

/** The broker refused a record of a transaction (see classifyTransactionFailure); the transaction was aborted. */
export class TransactionRefused extends Error {
  constructor(readonly refusal: string) {
    super(`the broker refused a record (${refusal})`);
  }
}

/** A heartbeat failed (usually: the group is rebalancing); kafkajs must see its error to rejoin. */
export class HeartbeatFailed extends Error {
  constructor(readonly kafkaError: unknown) {
    super('heartbeat failed');
  }
}

/**
 * The group coordinator refused a chunk's offsets: this member lost the
 * partition (see MemberTransactions). Carries the broker's error, which
 * kafkajs must see to rejoin its group at once.
 */
export class PartitionLost extends Error {
  constructor(readonly kafkaError: Error) {
    super('partition lost');
  }
}

/** One key per input partition for the runner's per-partition maps. */
export const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `work` while heartbeating every `intervalMs`, so a handler slower than
 * the session timeout keeps its group membership. A heartbeat that reports a
 * rebalance interrupts the chunk: nothing of it is committed, and the error
 * reaches kafkajs (as HeartbeatFailed's cause), which rejoins the group.
 */
export async function withHeartbeats<T>(
  intervalMs: number,
  heartbeat: () => Promise<void>,
  work: (beatFailed: () => boolean) => Promise<T>,
): Promise<T> {
  let heartbeatError: unknown = null;
  const timer = setInterval(() => {
    heartbeat().catch((err: unknown) => {
      heartbeatError ??= err;
    });
  }, intervalMs);
  try {
    const result = await work(() => heartbeatError !== null);
    if (heartbeatError) throw new HeartbeatFailed(heartbeatError);
    return result;
  } finally {
    clearInterval(timer);
  }
}
