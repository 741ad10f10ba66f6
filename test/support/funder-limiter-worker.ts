// One replica's worth of calls to a funder, for the limiter cluster scenario:
// its own FunderLimiter over the configured Redis, `--callers` concurrent
// callers POSTing to `<base>/call` as fast as the limiter lets them, each
// waiting at most `--max-wait-ms` for its turn. When ready it asks
// `<base>/go`, which answers once every worker is ready with the shared
// window (epoch ms) in which to call, so all of them start together. Prints
// JSON lines on stdout: `ready`, then `done` with every call's start time
// and the counts of outcomes.
import { Command } from 'commander';
import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import { FunderLimiter } from '@grantstream/funders';

const report = (event: string, data: object = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const wallMs = () => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--funder <id>')
    .requiredOption('--id-prefix <prefix>')
    .requiredOption('--rate <n>', 'calls per second', Number)
    .requiredOption('--max-concurrent <n>', 'calls in flight', Number)
    .requiredOption('--base <url>', 'the counting server')
    .requiredOption('--callers <n>', 'concurrent callers', Number)
    .requiredOption('--max-wait-ms <ms>', 'longest wait for a turn', Number)
    .parse(process.argv)
    .opts<{
      funder: string;
      idPrefix: string;
      rate: number;
      maxConcurrent: number;
      base: string;
      callers: number;
      maxWaitMs: number;
    }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  const errors: string[] = [];
  const limiter = new FunderLimiter({
    funderId: o.funder,
    idPrefix: o.idPrefix,
    ratePerSecond: o.rate,
    maxConcurrent: o.maxConcurrent,
    redis: config.redis,
    onError: (e) => errors.push(e.message),
  });
  await limiter.ready();
  report('ready', { pid: process.pid });
  const go = await fetch(`${o.base}/go`);
  const { startAt, stopAt } = (await go.json()) as { startAt: number; stopAt: number };
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
  const starts: number[] = [];
  const outcomes = { ran: 0, throttled: 0, failed: 0 };
  const caller = async () => {
    while (Date.now() < stopAt) {
      try {
        const r = await limiter.schedule(
          async () => {
            starts.push(wallMs());
            const res = await fetch(`${o.base}/call`, { method: 'POST' });
            await res.arrayBuffer();
            return res.status;
          },
          { maxWaitMs: o.maxWaitMs },
        );
        outcomes[r.kind] += 1;
      } catch (e) {
        outcomes.failed += 1;
        errors.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: o.callers }, caller));
  await limiter.close();
  report('done', { pid: process.pid, starts, ...outcomes, errors });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
