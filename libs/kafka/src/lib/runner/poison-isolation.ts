/** What committing a run of a chunk's inputs in one transaction gave. */
export type SliceCommit =
  | { committed: true }
  | {
      committed: false;
      /** The broker's reason (MESSAGE_TOO_LARGE ...): the same records would be refused again. */
      refusal: string;
    };

/** One step of an isolation: a refused run of `size` inputs split into runs of these sizes. */
export interface SplitStep {
  /** Offset in the chunk of the refused run's first input. */
  start: number;
  size: number;
  into: number[];
  /** Refused transactions so far in this chunk, this one included. */
  refused: number;
  /** True once the budget is spent: the run goes one input per transaction. */
  singles: boolean;
}

/** How the isolation of one chunk went (a chunk that committed at once: 1 transaction, 0 refused). */
export interface IsolationReport {
  transactions: number;
  refused: number;
  /** Inputs refused alone and handed to `isolate`. */
  isolated: number;
  splits: number;
}

/** What {@link commitIsolating} needs from the runner. */
export interface IsolationHooks<T> {
  /**
   * Commits `items` (consecutive inputs of the chunk, in order) and their
   * input offset in one transaction. Resolves with the refusal when the
   * broker refused a record; rejects for anything else (an outage), which
   * ends the isolation: the caller retries the rest of the chunk as before.
   */
  commit(items: readonly T[], start: number): Promise<SliceCommit>;
  /** Dead-letters one input the broker refused alone; resolves once that is committed. */
  isolate(item: T, index: number, refusal: string): Promise<void>;
  /** Told about every split, for metrics and logs. */
  onSplit?(step: SplitStep): void;
  /** Refused transactions after which runs are no longer halved but go one input at a time. */
  maxRefusedTransactions: number;
}

/**
 * How a refused run of `size` inputs is split: in halves (the earlier half
 * first, so offsets commit in order) while the budget lasts, then into
 * single inputs. Never called with a single input: that one is isolated.
 */
export function splitSizes(size: number, refused: number, maxRefused: number): number[] {
  if (size <= 1) return [size];
  if (refused >= maxRefused) return Array.from({ length: size }, () => 1);
  const first = Math.ceil(size / 2);
  return [first, size - first];
}

/**
 * Commits a chunk's inputs, isolating those whose records the broker
 * refuses. The whole chunk is tried first; a refused run is split
 * ({@link splitSizes}) and its parts tried in order; a single input refused
 * alone goes to `isolate` (its dead letter). Runs commit in offset order, so
 * the committed offset only moves forward and every input is committed
 * exactly once, as outputs or as a dead letter. Bounded: at most
 * `maxRefusedTransactions` halvings, then one transaction per remaining
 * input, however many inputs are at fault.
 */
export async function commitIsolating<T>(
  items: readonly T[],
  hooks: IsolationHooks<T>,
): Promise<IsolationReport> {
  const report: IsolationReport = { transactions: 0, refused: 0, isolated: 0, splits: 0 };
  // Runs still to commit, as [start, size], earliest first.
  const pending: [number, number][] = items.length > 0 ? [[0, items.length]] : [];
  for (let run = pending.shift(); run; run = pending.shift()) {
    const [start, size] = run;
    report.transactions += 1;
    const result = await hooks.commit(items.slice(start, start + size), start);
    if (result.committed) continue;
    report.refused += 1;
    if (size === 1) {
      report.isolated += 1;
      await hooks.isolate(items[start] as T, start, result.refusal);
      continue;
    }
    const into = splitSizes(size, report.refused, hooks.maxRefusedTransactions);
    report.splits += 1;
    hooks.onSplit?.({
      start,
      size,
      into,
      refused: report.refused,
      singles: into.length === size,
    });
    let at = start;
    const parts: [number, number][] = into.map((n) => {
      const part: [number, number] = [at, n];
      at += n;
      return part;
    });
    pending.unshift(...parts);
  }
  return report;
}
