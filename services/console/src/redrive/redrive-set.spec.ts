import { describe, expect, it } from 'vitest';
import type { DeadLetterEntry, RedriveReport } from '@grantstream/dead-letters';
import type { DeadLetterQuery, StoredDeadLetter } from '@grantstream/read-model';
import { previewFingerprint, selectForRedrive } from './redrive-set';

function stored(partition: number, offset: string): StoredDeadLetter {
  return {
    partition,
    offset,
    entry: { position: `${partition}:${offset}` } as DeadLetterEntry,
    failedAt: null,
    key: null,
    value: null,
    headers: [],
  };
}

const report = (send: string[], refused: [string, string][]): RedriveReport => ({
  redriven: send.map((p) => ({
    kind: 'send',
    entry: { position: p } as DeadLetterEntry,
    toTopic: 'grants.routed.v1',
    redriveCount: 1,
    eventId: `event-${p}`,
  })),
  skipped: refused.map(([p, reason]) => ({
    kind: 'refused',
    entry: { position: p } as DeadLetterEntry,
    reason,
    unreadable: false,
  })),
});

describe('selectForRedrive', () => {
  it('returns the set in dead-letter order, asking for one row more than the maximum', () => {
    const asked: DeadLetterQuery[] = [];
    const rows = [stored(1, '2'), stored(0, '10'), stored(0, '9')];
    const s = selectForRedrive(
      (q) => {
        asked.push(q);
        return rows;
      },
      { category: 'CONFIGURATION' },
      3,
    );
    expect(asked).toEqual([{ category: 'CONFIGURATION', limit: 4 }]);
    expect(s.kind === 'set' && s.letters.map((d) => d.entry.position)).toEqual([
      '0:9',
      '0:10',
      '1:2',
    ]);
  });

  it('refuses a set larger than the maximum', () => {
    const rows = [stored(0, '1'), stored(0, '2'), stored(0, '3')];
    expect(selectForRedrive(() => rows, {}, 2)).toEqual({ kind: 'too-large', maxSetSize: 2 });
  });
});

describe('previewFingerprint', () => {
  const preview = report(['0:1', '0:2'], [['0:3', 'already redriven']]);
  const fp = previewFingerprint({ code: 'X', stage: undefined }, false, preview);

  it('is the same for the same filter, force and outcome, whatever the event ids or key order', () => {
    const again = report(['0:1', '0:2'], [['0:3', 'already redriven']]);
    again.redriven.forEach((r) => (r.eventId = 'another'));
    expect(previewFingerprint({ stage: undefined, code: 'X' }, false, again)).toBe(fp);
  });

  it('differs when the set, a refusal, the filter or force differs', () => {
    expect(previewFingerprint({ code: 'X' }, false, report(['0:1'], [['0:3', 'x']]))).not.toBe(fp);
    expect(
      previewFingerprint(
        { code: 'X' },
        false,
        report(['0:1', '0:2', '0:4'], [['0:3', 'already redriven']]),
      ),
    ).not.toBe(fp);
    expect(
      previewFingerprint({ code: 'X' }, false, report(['0:1', '0:2'], [['0:3', 'category']])),
    ).not.toBe(fp);
    expect(previewFingerprint({ code: 'Y' }, false, preview)).not.toBe(fp);
    expect(previewFingerprint({ code: 'X' }, true, preview)).not.toBe(fp);
  });
});
