import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@grantstream/logging';
import { fillOnce } from './artifacts';

const log = createLogger({ service: 'artifacts-spec', level: 'silent' });

describe('fillOnce', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));
  const root = () => {
    const r = mkdtempSync(join(tmpdir(), 'fill-once-'));
    roots.push(r);
    return r;
  };

  it('keeps the copy another start completed while this one was filling, and drops its own', () => {
    const dir = join(root(), 'kafka-x');
    const result = fillOnce(dir, log, 'first', (tmp) => {
      // A second start fills and completes the same folder meanwhile, and may
      // already run from it: it must not be removed or replaced under it.
      fillOnce(dir, log, 'second', (other) => writeFileSync(join(other, 'who'), 'second'));
      writeFileSync(join(tmp, 'who'), 'first');
    });
    expect(result).toBe(dir);
    expect(readFileSync(join(dir, 'who'), 'utf8')).toBe('second');
    expect(readdirSync(join(dir, '..'))).toEqual(['kafka-x']);
  });

  it('replaces a folder a crashed start left half-filled, and fills a complete one no more', () => {
    const dir = join(root(), 'kafka-y');
    fillOnce(dir, log, 'crashed', (tmp) => writeFileSync(join(tmp, 'who'), 'crashed'));
    rmSync(join(dir, '.complete'));
    let fills = 0;
    const fill = (tmp: string) => {
      fills += 1;
      writeFileSync(join(tmp, 'who'), 'again');
    };
    fillOnce(dir, log, 'again', fill);
    fillOnce(dir, log, 'again', fill);
    expect(fills).toBe(1);
    expect(readFileSync(join(dir, 'who'), 'utf8')).toBe('again');
    expect(existsSync(join(dir, '.complete'))).toBe(true);
  });
});
