import { describe, expect, it } from 'vitest';
import type { ApplyTopicsReport } from '@grantstream/kafka';
import { formatApplyReport } from './topics.command';

const drift = {
  topic: 'grants.dlq.v1',
  field: 'retention.ms',
  declared: '1209600000',
  actual: '3600000',
  fixable: true,
};

describe('formatApplyReport', () => {
  it('lists each topic and the totals', () => {
    const report: ApplyTopicsReport = {
      created: ['grants.ingest.v1'],
      inSync: ['grants.audit.v1'],
      drift: [],
      fixed: [],
      schemas: [{ topic: 'grants.ingest.v1', subject: 'grants.ingest.v1-value', id: 4 }],
    };
    expect(formatApplyReport(report)).toBe(
      [
        'created   grants.ingest.v1',
        'in sync   grants.audit.v1',
        'schema    grants.ingest.v1-value id 4',
        '1 created, 1 in sync, 0 drift (0 fixed), 1 schemas registered',
        '',
      ].join('\n'),
    );
  });

  it('says what drifted and how to resolve it', () => {
    const text = formatApplyReport({
      created: [],
      inSync: [],
      drift: [drift],
      fixed: [],
      schemas: [],
    });
    expect(text).toContain(
      'drift     grants.dlq.v1 retention.ms: declared 1209600000, cluster has 3600000',
    );
    expect(text).toContain('1 drift unresolved: rerun with --fix-drift');
  });

  it('marks fixed drift', () => {
    const text = formatApplyReport({
      created: [],
      inSync: [],
      drift: [drift],
      fixed: [drift],
      schemas: [],
    });
    expect(text).toContain('fixed     grants.dlq.v1 retention.ms');
    expect(text).not.toContain('unresolved');
  });
});
