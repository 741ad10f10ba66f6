import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMITTED_NOW, DEFECT_KINDS, checkExamples, generateExamples } from './index';

const EXAMPLES_DIR = join(__dirname, '..');

describe('the committed example batch', { timeout: 120_000 }, () => {
  it('is what the generator makes for the committed now (npm run examples -- --check)', async () => {
    const generated = await generateExamples({ now: Date.parse(COMMITTED_NOW) });
    const result = await checkExamples(EXAMPLES_DIR, generated);
    expect(result.differences).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('is documented: the README names every defect', () => {
    const readme = readFileSync(join(EXAMPLES_DIR, 'README.md'), 'utf8');
    for (const kind of DEFECT_KINDS) expect(readme, kind).toContain(`\`${kind}\``);
  });
});
