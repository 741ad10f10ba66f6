// Guarantee: a stage hop is atomic. A handler that emits 3 outputs per input,
// its process killed with SIGKILL in the middle of a batch and restarted,
// three times, then stopped with SIGTERM mid-batch (it must exit 0 having
// committed or aborted its open chunk) and restarted: a read_committed reader
// sees every output exactly once and no input is skipped. The stage process is
// a NestJS microservice over StageTransport, as real stages are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClients } from '@grantstream/kafka';
import { testClients } from '@grantstream/testing';
import {
  createHopTopics,
  spawnFanoutStage,
  multiplicity,
  produceGrants,
  readFanout,
  type HopTopics,
} from '../support/fanout';

const INPUTS = 1200;
const FANOUT = 3;
const KILLS = 3;

describe('atomic hop under SIGKILL', () => {
  let clients: PlatformClients;
  let t: HopTopics;

  beforeAll(async () => {
    clients = await testClients();
    t = await createHopTopics(clients, 'atomic');
    await produceGrants(clients, t.input, INPUTS);
  });
  afterAll(() => clients.close());

  const stage = () => spawnFanoutStage(t, { fanout: FANOUT, delayMs: 4 });

  it('commits every output exactly once across three kills', { timeout: 300_000 }, async () => {
    let killedAfterCommits = 0;
    for (let k = 0; k < KILLS; k += 1) {
      const p = stage();
      await p.waitFor((e) => e['event'] === 'committed', 60_000);
      // Land inside the next chunk: after a commit, before the following one.
      await new Promise((r) => setTimeout(r, 40 + Math.floor(Math.random() * 80)));
      p.child.kill('SIGKILL');
      await p.exited;
      killedAfterCommits += p.events.filter((e) => e['event'] === 'committed').length;
    }
    // Each killed process made progress, and the work was not finished when it died.
    expect(killedAfterCommits).toBeGreaterThanOrEqual(KILLS);

    const terminated = stage();
    await terminated.waitFor((e) => e['event'] === 'committed', 60_000);
    await new Promise((r) => setTimeout(r, 60));
    terminated.child.kill('SIGTERM');
    expect(await terminated.exited).toBe(0);
    expect(terminated.events.some((e) => e['event'] === 'stopped')).toBe(true);

    const last = stage();
    const committed = await readFanout(
      clients,
      t.output,
      INPUTS * FANOUT,
      'read_committed',
      120_000,
    );
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    expect(committed).toHaveLength(INPUTS * FANOUT);
    const counts = multiplicity(committed);
    expect(counts.size).toBe(INPUTS * FANOUT);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    const inputs = new Set(committed.map((r) => `${r.input_partition}/${r.input_offset}`));
    expect(inputs.size).toBe(INPUTS);
    expect(new Set(committed.map((r) => r.grant_id)).size).toBe(INPUTS);
    const everything = await readFanout(
      clients,
      t.output,
      Number.MAX_SAFE_INTEGER,
      'read_uncommitted',
      5_000,
    );
    // Records of transactions the kills cut short are on the log but never visible to read_committed.
    expect(everything.length).toBeGreaterThanOrEqual(committed.length);
  });
});
