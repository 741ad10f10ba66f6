import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NormalizedGrantV1Schema } from '@grantstream/contracts';
import { FLAG_CODES, SEVERITIES, loadRulePacks } from '@grantstream/rules';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { routeGrant } from './domain/route';

// The routing fixtures (test/fixtures/routing/{ok,not-ok}) run the pure
// router with the example rule packs: ok/ grants are forwarded (possibly with
// WARNING/INFO flags), not-ok/ grants are rejected, each with exactly the
// flag codes listed, in rule order.

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/routing');
const packs = loadRulePacks(join(ROOT, 'examples/rule-packs'));

const fixtureSchema = z.strictObject({
  description: z.string().min(1),
  funder: z.string().min(1),
  now: z.iso.datetime(),
  input: NormalizedGrantV1Schema,
  expect: z.strictObject({
    decision: z.enum(['FORWARD', 'REJECT']),
    /** Every flag code, in order. */
    codes: z.array(z.enum(FLAG_CODES)),
    /** Severities of the flags, in order, when the fixture is about them. */
    severities: z.array(z.enum(SEVERITIES)).optional(),
    rule_pack_version: z.string().optional(),
  }),
});

function load(kind: 'ok' | 'not-ok') {
  const dir = join(FIXTURES, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, fixtureSchema.parse(JSON.parse(readFileSync(join(dir, f), 'utf8')))] as const);
}

describe.each(['ok', 'not-ok'] as const)('routing fixtures: %s', (kind) => {
  const fixtures = load(kind);

  it('has enough fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(kind === 'ok' ? 4 : 6);
  });

  it.each(fixtures)('%s', (_file, fixture) => {
    expect(fixture.input.funder_id).toBe(fixture.funder);
    const pack = packs.get(fixture.funder);
    const outcome = routeGrant(fixture.input, pack, { now: Date.parse(fixture.now) });

    expect(outcome.decision).toBe(kind === 'ok' ? 'FORWARD' : 'REJECT');
    expect(outcome.decision).toBe(fixture.expect.decision);
    expect(outcome.flags.map((f) => f.code)).toEqual(fixture.expect.codes);
    if (fixture.expect.severities !== undefined) {
      expect(outcome.flags.map((f) => f.severity)).toEqual(fixture.expect.severities);
    }
    expect(outcome.rulePackVersion).toBe(fixture.expect.rule_pack_version ?? pack?.version);
    for (const flag of outcome.flags) expect(flag.message.length).toBeGreaterThan(0);
  });
});
