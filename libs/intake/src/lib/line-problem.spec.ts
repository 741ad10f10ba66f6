import { describe, expect, it } from 'vitest';
import { formatLineProblem } from './line-problem';

describe('formatLineProblem', () => {
  it('reads file:line: grant: field: why, without the grant id when unknown', () => {
    const p = { file: 'b.jsonl', line: 7, field: 'metadata.x', message: 'bad' };
    expect(formatLineProblem({ ...p, grantId: 'BCF-2026-00001' })).toBe(
      'b.jsonl:7: BCF-2026-00001: metadata.x: bad',
    );
    expect(formatLineProblem({ ...p, grantId: null })).toBe('b.jsonl:7: metadata.x: bad');
  });
});
