import { SingleBar } from 'cli-progress';
import { scanAuditTopic, type AuditSources } from './log-sources';

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

/** {@link scanAuditTopic} with a progress bar on a terminal. */
export async function scanAudit(...args: Parameters<typeof scanAuditTopic>): Promise<number> {
  const [clients, scanner, topic, read, onRecord, onUndecodable] = args;
  return withProgressBar(await scanner.size(topic), (tick) =>
    scanAuditTopic(
      clients,
      scanner,
      topic,
      read,
      async (record) => {
        tick();
        await onRecord(record);
      },
      onUndecodable,
    ),
  );
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
