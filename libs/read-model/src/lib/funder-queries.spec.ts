import { describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '@grantstream/contracts';
import { auditTrail, type TrailStep } from './audit-trail.fixture';
import { auditRowOf } from './projection';
import { ReadModelStore } from './read-model-store';

const T0 = Date.UTC(2026, 10, 2, 9, 0);
const DAY = 86_400_000;
let offset = 0;

/** One grant's trail, one minute apart from T0. */
const trail = (grantId: string, steps: TrailStep[]) => auditTrail(grantId, steps, T0);

const validated = (deadline: number) => ({
  stage: 'ingest',
  action: 'VALIDATED' as const,
  details: { submission_deadline: new Date(deadline).toISOString() },
});

function storeOf(trails: AuditEventV1[][]): ReadModelStore {
  const store = ReadModelStore.open(':memory:');
  store.apply({
    audit: trails
      .flat()
      .map((e) =>
        auditRowOf({ partition: 0, offset: String(offset++) }, `${e.grant_id}:${e.event_id}`, e),
      ),
    statuses: [],
    deadLetters: [],
    positions: [],
  });
  return store;
}

describe('ReadModelStore funder queries', () => {
  const store = storeOf([
    trail('NSF-1', [validated(T0 + 3 * DAY), { stage: 'routing', action: 'FORWARD' }]),
    trail('NSF-2', [
      validated(T0 + DAY),
      { stage: 'routing', action: 'FORWARD' },
      { stage: 'submission', action: 'RETRY', errorCategory: 'API_TIMEOUT' },
    ]),
    trail('NSF-3', [
      validated(T0 + 2 * DAY),
      { stage: 'routing', action: 'FORWARD' },
      { stage: 'submission', action: 'SUBMITTED', details: { tracking_number: 'TRK-3' } },
    ]),
    trail('NSF-4', [validated(T0 + 30 * DAY), { stage: 'routing', action: 'FORWARD' }]),
    trail('BCF-1', [validated(T0 + DAY), { stage: 'routing', action: 'REJECT' }]),
  ]);

  it('counts grants per funder and state', () => {
    expect(store.funderStateCounts()).toEqual([
      { funderId: 'BCF', state: 'REJECT', grants: 1 },
      { funderId: 'NSF', state: 'FORWARD', grants: 2 },
      { funderId: 'NSF', state: 'RETRY', grants: 1 },
      { funderId: 'NSF', state: 'SUBMITTED', grants: 1 },
    ]);
  });

  it("lists a funder's grants the portal has not received by deadline in a range, the soonest first", () => {
    const ids = (from: number, to: number, limit = 10) =>
      store.unfiledByDeadline('NSF', from, to, limit).map((g) => g.grantId);
    // NSF-3 has a tracking number: filed, whatever its deadline.
    expect(ids(T0, T0 + 10 * DAY)).toEqual(['NSF-2', 'NSF-1']);
    expect(ids(T0, T0 + 10 * DAY, 1)).toEqual(['NSF-2']);
    expect(ids(T0 + 2 * DAY, T0 + 40 * DAY)).toEqual(['NSF-1', 'NSF-4']);
    expect(store.unfiledByDeadline('BCF', T0, T0 + DAY, 10)).toEqual([]);
    expect(store.unfiledByDeadline('BCF', T0, T0 + DAY + 1, 10)[0]?.deadline).toBe(T0 + DAY);
  });
});
