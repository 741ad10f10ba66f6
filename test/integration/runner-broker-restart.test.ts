// Guarantee: the runner survives a broker outage by itself. With the broker
// stopped for 30 s in the middle of a batch and started again, the same runner
// instance (no manual restart) finishes the work: every output exactly once,
// nothing lost. It runs on a second, isolated stack so the broker the other
// scenarios use is never stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRunner, createKafka, type PlatformClients } from '@grantstream/kafka';
import { ENTRY, runTs, testClients, testConfig, testLogger } from '@grantstream/testing';
import {
  createHopTopics,
  fanoutHandler,
  hopRunnerConfig,
  multiplicity,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const INPUTS = 1500;
const FANOUT = 3;
const OUTAGE_MS = 30_000;

const stateDir = mkdtempSync(join(tmpdir(), 'grantstream-outage-'));
const env = {
  GRANTSTREAM__STACK__STATE_DIR: stateDir,
  GRANTSTREAM__STACK__KAFKA__PORT: '19292',
  GRANTSTREAM__STACK__KAFKA__CONTROLLER_PORT: '19293',
  GRANTSTREAM__STACK__REGISTRY__PORT: '18291',
  GRANTSTREAM__STACK__REGISTRY__MANAGEMENT_PORT: '19291',
  GRANTSTREAM__STACK__REDIS__PORT: '16492',
  GRANTSTREAM__KAFKA__BROKERS: '[127.0.0.1:19292]',
  GRANTSTREAM__REGISTRY__URL: 'http://127.0.0.1:18291/apis/ccompat/v7',
};
const stack = (...args: string[]) => runTs(ENTRY.stack, args, { env, timeoutMs: 240_000 });

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
      const runner = new StageRunner({
        service: { stage: 'outage', name: 'outage-stage', version: '0' },
        config: hopRunnerConfig(t, { maxBatchMessages: 50, restartBackoffMs: 1000 }),
        // The outage makes kafkajs log every refused connection; only fatal lines here.
        kafka: createKafka(config.kafka, testLogger().child({}, { level: 'fatal' })),
        serde: clients.serde,
        handlers: [
          fanoutHandler({ inputTopic: t.input, outputTopic: t.output, fanout: FANOUT, delayMs: 5 }),
        ],
        logger: testLogger(),
      });
      let commitsBefore = 0;
      let stopped = false;
      let commitsAfter = 0;
      runner.on('committed', () => (stopped ? (commitsAfter += 1) : (commitsBefore += 1)));
      await runner.start();
      while (commitsBefore < 3) await new Promise((r) => setTimeout(r, 50));

      process.kill(await kafkaPid(), 'SIGTERM');
      stopped = true;
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
});
