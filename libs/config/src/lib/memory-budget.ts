import type { StageRunnerConfig } from './fragments';

const MB = 1024 * 1024;

/**
 * The worst case of a stage's variable memory, derived from its runner
 * settings, in bytes. What a stage holds beyond its idle baseline is fetched
 * records, what they inflate to, and the messages being handled; each is
 * bounded here by a setting, so the RSS guard is the last line of defence,
 * not the one that keeps a stage alive.
 */
export interface MemoryBudget {
  /**
   * Compressed bytes of one fetch response: maxBytes, plus the one record
   * batch a broker returns beyond the limit so a consumer can progress
   * (at most the broker's message.max.bytes, which maxInputRecordBytes covers).
   */
  fetchedBytes: number;
  /** What fetched batches inflate to in memory: maxInflationRatio times the fetched bytes. */
  inflatedBytes: number;
  /** Compressed batches kept so that records beyond the ratio inflate one at a time. */
  retainedBytes: number;
  /**
   * Memory of the messages being handled: their raw bytes (bounded by
   * partitionsConsumedConcurrently x messageConcurrency x maxInputRecordBytes,
   * and by maxInFlightBytes) times handlingBytesPerInputByte.
   */
  handlingBytes: number;
  /**
   * Results of handled messages waiting for their chunk's commit: per
   * partition consumed at once, one chunk (maxChunkBytes, or one message
   * when the first is larger) times pendingBytesPerInputByte.
   */
  pendingBytes: number;
  /** The sum: all of it in flight at once. */
  inFlightBytes: number;
}

/** {@link MemoryBudget} of a stage's runner configuration. */
export function memoryBudgetOf(c: StageRunnerConfig): MemoryBudget {
  const m = c.memory;
  const fetchedBytes = c.maxBytes + m.maxInputRecordBytes;
  const inflatedBytes = m.maxInflationRatio * fetchedBytes;
  const retainedBytes = fetchedBytes;
  const byConcurrency =
    c.partitionsConsumedConcurrently * c.messageConcurrency * m.maxInputRecordBytes;
  // The admission gate lets one message in whenever nothing is in flight,
  // however large (up to maxInputRecordBytes).
  const byGate = Math.max(m.maxInFlightBytes, m.maxInputRecordBytes);
  const handlingBytes = Math.min(byConcurrency, byGate) * m.handlingBytesPerInputByte;
  const pendingBytes =
    c.partitionsConsumedConcurrently *
    Math.max(m.maxChunkBytes, m.maxInputRecordBytes) *
    m.pendingBytesPerInputByte;
  return {
    fetchedBytes,
    inflatedBytes,
    retainedBytes,
    handlingBytes,
    pendingBytes,
    inFlightBytes: fetchedBytes + inflatedBytes + retainedBytes + handlingBytes + pendingBytes,
  };
}

const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/**
 * Why a runner configuration cannot keep its stage within its memory budget
 * (empty when it can):
 * - a full load in flight from idle must stay below the pause mark, so the
 *   guard never decides a healthy stage's pace;
 * - what is in flight when the guard pauses must still fit under the budget
 *   (the container limit), since the guard stops new work, not started work;
 * - the marks must be ordered, and our own records must never be too large
 *   for the next stage to take in.
 */
export function memoryBudgetProblems(c: StageRunnerConfig): string[] {
  const m = c.memory;
  const b = memoryBudgetOf(c);
  const problems: string[] = [];
  const pause = m.pauseAboveRssMb * MB;
  const budget = m.budgetMb * MB;
  if (m.resumeBelowRssMb > m.pauseAboveRssMb)
    problems.push(
      `memory.resumeBelowRssMb (${m.resumeBelowRssMb}) is above memory.pauseAboveRssMb (${m.pauseAboveRssMb})`,
    );
  if (m.pauseAboveRssMb >= m.budgetMb)
    problems.push(
      `memory.pauseAboveRssMb (${m.pauseAboveRssMb}) must be below memory.budgetMb (${m.budgetMb})`,
    );
  if (m.pauseAboveHeapMb > m.pauseAboveRssMb)
    problems.push(
      `memory.pauseAboveHeapMb (${m.pauseAboveHeapMb}) is above memory.pauseAboveRssMb (${m.pauseAboveRssMb}): the heap is part of RSS`,
    );
  if (m.baselineMb * MB + b.inFlightBytes > pause)
    problems.push(
      `a full load in flight (${mb(b.inFlightBytes)}: fetched ${mb(b.fetchedBytes)}, inflated ${mb(b.inflatedBytes)}, retained ${mb(b.retainedBytes)}, handling ${mb(b.handlingBytes)}, pending ${mb(b.pendingBytes)}) over the baseline (${m.baselineMb} MB) passes memory.pauseAboveRssMb (${m.pauseAboveRssMb}): lower maxBytes, memory.maxInflationRatio, memory.maxInFlightBytes, memory.maxChunkBytes or the concurrency`,
    );
  if (pause + b.inFlightBytes > budget)
    problems.push(
      `work in flight when the guard pauses (${mb(b.inFlightBytes)}) over memory.pauseAboveRssMb (${m.pauseAboveRssMb}) exceeds memory.budgetMb (${m.budgetMb})`,
    );
  if (m.maxInputRecordBytes < c.maxRecordBytes)
    problems.push(
      `memory.maxInputRecordBytes (${m.maxInputRecordBytes}) is below maxRecordBytes (${c.maxRecordBytes}): records our stages write would be refused as input`,
    );
  return problems.map((p) => `runner ${c.groupId}: ${p}`);
}
