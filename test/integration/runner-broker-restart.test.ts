// Guarantee: the runner survives a broker outage by itself. With the broker
// stopped for 30 s in the middle of a batch and started again, the same runner
// instance (no manual restart) finishes the work: every output exactly once,
// nothing lost. A stage service's readiness follows the broker: 503 naming the
// broker while it is down (liveness stays 200: nothing to restart), 200 again
// once it is back, with the transactions the outage cut off counted as
// aborted. It runs on a second, isolated stack so the broker the other
// scenarios use is never stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import {
  ENTRY,
  runTs,
  testClients,
  testConfig,
  testLogger,
  freePort,
  scrapeMetric,
} from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  multiplicity,
  produceGrants,
  readFanout,
  spawnFanoutStage,
  type HopTopics,
} from '../support/fanout';
import { isolatedStackEnv } from '../support/isolated-stacks';

const INPUTS = 1500;
const FANOUT = 3;
const OUTAGE_MS = 30_000;
const READINESS_INPUTS = 1500;
const READINESS_OUTAGE_MS = 10_000;
const READINESS_DELAY_MS = 40;

const stateDir = mkdtempSync(join(tmpdir(), 'grantstream-outage-'));
const env = isolatedStackEnv('outage', stateDir);
const stack = (...args: string[]) => runTs(ENTRY.stack, args, { env, timeoutMs: 240_000 });

interface Readiness {
  status: number;
  checks: Record<string, boolean>;
}

async function readiness(base: string): Promise<Readiness> {
  const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { checks?: Record<string, boolean> };
  return { status: res.status, checks: body.checks ?? {} };
}

/** Polls readiness until it answers `status`, or fails after `timeoutMs`. */
async function readinessBecomes(
  base: string,
  status: number,
  timeoutMs: number,
): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await readiness(base);
    if (now.status === status) return now;
    if (Date.now() > deadline) throw new Error(`readiness still ${now.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function kafkaPid(): Promise<number> {
  const r = await stack('status', '--json');
  const status = JSON.parse(r.stdout) as { component: string; pids: number[] }[];
  const pid = status.find((s) => s.component === 'kafka')?.pids[0];
  if (pid === undefined) throw new Error(`no kafka process: ${r.stdout}`);
  return pid;
}

describe('broker outage', () => {
  const config = testConfig({ ...process.env, ...env });
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    const up = await stack('up');
    if (up.code !== 0) throw new Error(`isolated stack did not start: ${up.stderr}`);
    clients = await testClients(config, testLogger().child({}, { level: 'fatal' }));
    t = await createHopTopics(clients, 'outage');
    await produceGrants(clients, t.input, INPUTS);
  }, 300_000);

  afterAll(async () => {
    await clients?.close().catch(() => undefined);
    await stack('down');
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it(
    `recovers from a ${OUTAGE_MS / 1000} s broker stop mid-batch without a restart`,
    { timeout: 300_000 },
    async () => {
      // Known before the batch starts, so the stop follows the third commit at once.
      const brokerPid = await kafkaPid();
      let brokerStopped = (): void => undefined;
      const outage = new Promise<void>((resolve) => (brokerStopped = resolve));
      let commitsBefore = 0;
      let stopped = false;
      let commitsAfter = 0;
      const runner = new StageRunner({
        service: { stage: 'outage', name: 'outage-stage', version: '0' },
        config: hopRunnerConfig(t, { maxBatchMessages: 50, restartBackoffMs: 1000 }),
        // The outage makes kafkajs log every refused connection; only fatal lines here.
        kafka: createKafka(config.kafka, testLogger().child({}, { level: 'fatal' })),
        serde: clients.serde,
        handlers: [
          fanoutHandler({
            inputTopic: t.input,
            outputTopic: t.output,
            fanout: FANOUT,
            delayMs: 5,
            // After three commits, hold the rest of the batch until the broker is
            // stopped: the outage always lands in the middle of the work.
            onHandle: () => (commitsBefore >= 3 ? outage : undefined),
          }),
        ],
        logger: testLogger(),
      });
      runner.on('committed', () => (stopped ? (commitsAfter += 1) : (commitsBefore += 1)));
      await runner.start();
      while (commitsBefore < 3) await new Promise((r) => setTimeout(r, 50));

      stopped = true;
      process.kill(brokerPid, 'SIGTERM');
      brokerStopped();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const up = await stack('up');
      expect(up.stdout).toContain('kafka: restarted');

      const reader = await testClients(config, testLogger().child({}, { level: 'fatal' }));
      const out = await readFanout(reader, t.output, INPUTS * FANOUT, 'read_committed', 180_000);
      await runner.stop();
      await reader.close();

      expect(commitsAfter).toBeGreaterThan(0);
      expect(out).toHaveLength(INPUTS * FANOUT);
      const counts = multiplicity(out);
      expect(counts.size).toBe(INPUTS * FANOUT);
      expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    },
  );

  it(
    'a stage service is not ready while the broker is down and ready again after it restarts',
    { timeout: 300_000 },
    async () => {
      const r = await createHopTopics(clients, 'ready');
      await produceGrants(clients, r.input, READINESS_INPUTS);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const brokerPid = await kafkaPid();
      // 500 inputs per partition at 40 ms each: the outage lands mid-batch.
      const stage = spawnFanoutStage(r, {
        fanout: FANOUT,
        delayMs: READINESS_DELAY_MS,
        metricsPort: port,
        env,
      });
      try {
        await stage.waitFor((e) => e['event'] === 'committed', 60_000);
        const before = await readiness(base);
        expect(before).toEqual({
          status: 200,
          checks: { consumerGroup: true, broker: true, registry: true },
        });

        process.kill(brokerPid, 'SIGTERM');
        const down = await readinessBecomes(base, 503, 60_000);
        expect(down.checks['broker']).toBe(false);
        expect(down.checks['registry']).toBe(true);
        // Not a liveness failure: restarting the replica would not bring the broker back.
        expect((await fetch(`${base}/health/live`)).status).toBe(200);
        await new Promise((res) => setTimeout(res, READINESS_OUTAGE_MS));
        expect((await readiness(base)).status).toBe(503);

        const up = await stack('up');
        expect(up.stdout).toContain('kafka: restarted');
        const back = await readinessBecomes(base, 200, 120_000);
        expect(back.checks).toEqual({ consumerGroup: true, broker: true, registry: true });

        const reader = await testClients(config, testLogger().child({}, { level: 'fatal' }));
        const out = await readFanout(
          reader,
          r.output,
          READINESS_INPUTS * FANOUT,
          'read_committed',
          180_000,
        );
        await reader.close();
        expect(out).toHaveLength(READINESS_INPUTS * FANOUT);
        expect([...multiplicity(out).values()].filter((n) => n !== 1)).toEqual([]);
        // The chunks the outage cut off show as aborted transactions, and were done again.
        const metrics = `${base}/metrics`;
        expect(
          await scrapeMetric(metrics, 'grantstream_stage_transactions_aborted_total'),
        ).toBeGreaterThan(0);
        expect(
          await scrapeMetric(metrics, 'grantstream_stage_transactions_committed_total'),
        ).toBeGreaterThan(0);
      } finally {
        stage.child.kill('SIGTERM');
      }
      expect(await stage.exited).toBe(0);
    },
  );
});
