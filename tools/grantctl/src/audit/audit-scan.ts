import { SingleBar } from 'cli-progress';
import { AuditEventV1Avro, AuditEventV1Schema, type AuditEventV1 } from '@grantstream/contracts';
import type { PlatformClients, ReadMessage, TopicScanner } from '@grantstream/kafka';
import type { AuditSources, Undecodable } from './log-sources';

/** Records between two redraws of the progress bar. */
const PROGRESS_EVERY = 1000;

/**
 * A progress bar on stderr while `scan` runs, when stderr is a terminal (a
 * pipe or a log file gets nothing); `scan` calls `tick` once per record.
 */
async function withProgressBar<T>(
  total: number,
  scan: (tick: () => void) => Promise<T>,
): Promise<T> {
  const bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, etaBuffer: PROGRESS_EVERY })
    : null;
  bar?.start(total, 0);
  let seen = 0;
  try {
    return await scan(() => {
      seen += 1;
      if (bar && seen % PROGRESS_EVERY === 0) bar.update(seen);
    });
  } finally {
    bar?.update(seen);
    bar?.stop();
  }
}

/**
 * Reads every audit record once, from offset 0, without a consumer group,
 * decoding each value; `onEvent` sees decoded events (null for a tombstone).
 */
export async function scanAudit(
  clients: PlatformClients,
  scanner: TopicScanner,
  topic: string,
  read: { maxBytesPerFetch: number; maxWaitMs: number; maxEmptyFetches: number },
  onEvent: (m: ReadMessage, event: AuditEventV1 | null) => void | Promise<void>,
  onUndecodable: (u: Undecodable) => void,
): Promise<number> {
  return withProgressBar(await scanner.size(topic), async (tick) => {
    let seen = 0;
    for await (const m of scanner.scan(topic, read)) {
      seen += 1;
      tick();
      if (m.value === null) {
        await onEvent(m, null);
        continue;
      }
      let event: AuditEventV1;
      try {
        const decoded = await clients.serde.decodeAs(m.value, AuditEventV1Avro);
        event = AuditEventV1Schema.parse(decoded.value);
      } catch (err) {
        onUndecodable({
          partition: m.partition,
          offset: m.offset,
          key: m.key?.toString() ?? null,
          reason: (err as Error).message,
        });
        continue;
      }
      // Awaited: a slow writer slows the scan instead of queueing lines in memory.
      await onEvent(m, event);
    }
    return seen;
  });
}

/** The sources' audit scan with a progress bar on a terminal. */
export function withProgress(sources: AuditSources): AuditSources {
  return {
    ...sources,
    async scanAudit(onRecord, onUndecodable) {
      return withProgressBar(await sources.auditSize(), (tick) =>
        sources.scanAudit(async (record) => {
          tick();
          await onRecord(record);
        }, onUndecodable),
      );
    },
  };
}
