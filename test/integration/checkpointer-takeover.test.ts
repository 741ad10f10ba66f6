// Guarantee: a kill -9 of the active checkpointer mid-stream and a standby's
// takeover neither fork nor gap the audit Merkle log. Audit events flow while
// the active checkpointer is killed; the standby (waiting in the lease group)
// takes over, fences the dead one's transactional id and resumes from the
// order topic. The order batches are contiguous, every committed audit record
// is one leaf exactly once, every checkpoint is signed by the log's key and
// consistent with its predecessor (RFC 9162 consistency proof), and the last
// one covers every event, as does the witness store. A tombstone and an
// undecodable value make no leaf, yet the committed positions move past them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consistencyProof,
  parseVerifierKey,
  validateOrderBatches,
  verifyConsistency,
  type NoteVerifier,
} from '@grantstream/audit';
import type { PlatformClients } from '@grantstream/kafka';
import { testClients } from '@grantstream/testing';
import {
  auditChain,
  checkpointerEnv,
  createCheckpointerScope,
  produceAuditEvents,
  leafHashesOf,
  readAll,
  readCheckpoints,
  readOrderBatches,
  rootOf,
  spawnCheckpointer,
  until,
  type CheckpointerProcess,
  type CheckpointerScope,
} from '../support/checkpointer';

const ORIGIN = 'grantstream.test/audit';
const MAX_BATCH = 40;
const STEPS = 5;
const GRANTS_PER_ROUND = 12;
/** Short enough that the takeover happens within the test, at the broker's minimum. */
const SESSION_TIMEOUT_MS = 6000;

describe('checkpointer takeover after kill -9', () => {
  let clients: PlatformClients;
  let scope: CheckpointerScope;
  const started: CheckpointerProcess[] = [];

  beforeAll(async () => {
    clients = await testClients();
    scope = await createCheckpointerScope(clients, 'takeover');
  });
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await clients.close();
  });

  const env = () =>
    checkpointerEnv(scope, {
      GRANTSTREAM__CHECKPOINTER__ORIGIN: ORIGIN,
      GRANTSTREAM__CHECKPOINTER__MAX_BATCH_ENTRIES: String(MAX_BATCH),
      GRANTSTREAM__CHECKPOINTER__EVERY_LEAVES: String(MAX_BATCH * 2),
      GRANTSTREAM__CHECKPOINTER__EVERY_MS: '500',
      GRANTSTREAM__CHECKPOINTER__IDLE_MS: '100',
      GRANTSTREAM__CHECKPOINTER__SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      GRANTSTREAM__CHECKPOINTER__HEARTBEAT_INTERVAL_MS: '1000',
      GRANTSTREAM__CHECKPOINTER__RESTART_BACKOFF_MS: '500',
    });
  const start = () => {
    const p = spawnCheckpointer(env());
    started.push(p);
    return p;
  };
  const leased = (l: Record<string, unknown>) => l['msg'] === 'lease acquired';
  const resumed = (l: Record<string, unknown>) => l['msg'] === 'checkpointer resumed the log';

  it(
    'keeps one contiguous, consistent log through the takeover',
    { timeout: 240_000 },
    async () => {
      const active = start();
      await active.waitFor(resumed, 60_000);
      const standby = start();
      await standby.waitFor((l) => l['msg'] === 'checkpointer waiting for the lease', 60_000);

      // Events flow in rounds until the standby has taken over and a few more rounds went by.
      let produced = 0;
      let round = 0;
      let stop = false;
      let roundsAfterTakeover = 0;
      const flowing = (async () => {
        while (!stop) {
          const events = Array.from({ length: GRANTS_PER_ROUND }, (_, g) =>
            auditChain(`TKO-${round}-${g}`, STEPS, Date.now()),
          ).flat();
          await produceAuditEvents(clients, scope.audit, events);
          produced += events.length;
          round += 1;
          if (standby.lines.some(resumed)) roundsAfterTakeover += 1;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      // Kill the active one once it has committed a few batches and events keep coming.
      await until(
        async () => (await readAll(clients, scope.order)).length >= 3,
        60_000,
        'three order batches',
      );
      expect(standby.lines.some(leased)).toBe(false);
      active.child.kill('SIGKILL');
      await active.exited;

      await standby.waitFor(resumed, SESSION_TIMEOUT_MS * 5);
      // Records that are no event make no leaf, but the positions move past them.
      await clients.io.produce(scope.audit, [
        { key: 'TKO-tombstone:0', value: null, partition: 0 },
        { key: 'TKO-garbage:0', value: Buffer.from('not avro'), partition: 1 },
      ]);
      await until(() => roundsAfterTakeover >= 3, 60_000, 'rounds after the takeover');
      stop = true;
      await flowing;

      const verifier: NoteVerifier = (() => {
        const parsed = parseVerifierKey(readFileSync(`${scope.keyFile}.pub`, 'utf8').trim());
        if (!parsed.ok) throw new Error(parsed.detail);
        return parsed.verifier;
      })();
      // The last checkpoint covers every event.
      await until(
        async () => {
          const cps = await readCheckpoints(clients, scope.checkpoints, verifier, ORIGIN);
          return cps[cps.length - 1]?.checkpoint.size === produced;
        },
        60_000,
        `a checkpoint of all ${produced} events`,
      );

      const batches = await readOrderBatches(clients, scope.order, MAX_BATCH);
      expect(validateOrderBatches(batches, { maxBatchEntries: MAX_BATCH })).toEqual({
        leaves: produced,
      });
      // Every committed audit record is one leaf, exactly once.
      const audit = await readAll(clients, scope.audit);
      const positions = batches.flatMap((b) => b.entries.map((e) => `${e.partition}/${e.offset}`));
      expect(new Set(positions).size).toBe(positions.length);
      const events = audit.filter((m) => !m.key?.toString().match(/^TKO-(tombstone|garbage):/));
      expect(audit.length - events.length).toBe(2);
      expect(new Set(positions)).toEqual(new Set(events.map((m) => `${m.partition}/${m.offset}`)));
      expect(positions).toHaveLength(produced);
      // The committed positions are the end of every partition, past the two non-events.
      const admin = clients.kafka.admin();
      await admin.connect();
      const committed = await admin.fetchOffsets({
        groupId: scope.offsetsGroup,
        topics: [scope.audit],
      });
      await admin.disconnect();
      const ends = (await clients.io.endOffsets([scope.audit])).get(scope.audit);
      expect(
        Object.fromEntries((committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset])),
      ).toEqual(Object.fromEntries([...(ends ?? [])].map(([p, o]) => [p, o])));

      const leaves = leafHashesOf(batches);
      const checkpoints = await readCheckpoints(clients, scope.checkpoints, verifier, ORIGIN);
      expect(checkpoints.length).toBeGreaterThan(2);
      let previous: { size: number; root: Buffer } | undefined;
      for (const { checkpoint } of checkpoints) {
        const root = Buffer.from(checkpoint.rootHash);
        expect(root.equals(rootOf(leaves, checkpoint.size))).toBe(true);
        if (previous) {
          expect(checkpoint.size).toBeGreaterThan(previous.size);
          const verdict = verifyConsistency({
            firstSize: previous.size,
            secondSize: checkpoint.size,
            firstRoot: previous.root,
            secondRoot: root,
            proof: consistencyProof(leaves, previous.size, checkpoint.size),
          });
          expect(verdict).toEqual({ ok: true });
        }
        previous = { size: checkpoint.size, root };
      }

      // The witness holds every checkpoint, byte for byte.
      const witnessed = readdirSync(scope.witnessDir).sort();
      expect(witnessed).toHaveLength(checkpoints.length);
      for (const { checkpoint, note } of checkpoints) {
        const name = `checkpoint-${String(checkpoint.size).padStart(20, '0')}.note`;
        expect(readFileSync(join(scope.witnessDir, name), 'utf8')).toBe(note);
      }

      // The standby resumed exactly where the killed one's last commit ended.
      const resumedAt = standby.lines.find(resumed)?.['size'];
      expect(batches.some((b) => b.firstIndex === resumedAt)).toBe(true);
      standby.child.kill('SIGTERM');
      expect(await standby.exited).toBe(0);
    },
  );
});
