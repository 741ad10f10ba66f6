/**
 * Routing's business-day count (`businessDaysBetween` in libs/rules) with the
 * local-date cache off (Intl `formatToParts` for both instants of every call)
 * and on (the configured cache), side by side in one process, so the machine's
 * load weighs on both alike (docs/benchmarks.md, "Three stages").
 *
 *   node --import tsx bench/rules-business-days.ts [--calls 100000] [--rounds 7] [--deadlines 1000]
 *
 * Each call is one routed application: `now` advances by a millisecond per
 * call, the deadline is one of `--deadlines` instants spread over the next
 * year, the zone is one of the example packs' zones. Each round times the
 * same calls with the cache off, then on; the figures are the medians of
 * the rounds in nanoseconds per call, and the two paths' counts must agree.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig, rulesSectionSchema } from '@grantstream/config';
import { businessDaysBetween, configureZonedDateCache, loadRulePacks } from '@grantstream/rules';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
    deadlines: { type: 'string', default: '20,100000' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const deadlineCounts = values.deadlines.split(',').map(Number);

const config = loadConfig({
  schema: z.object({ rules: rulesSectionSchema }),
  files: [DEFAULT_CONFIG_FILE],
  env: process.env,
});
const limits = config.rules.zonedDates;
if (!limits) throw new Error('config rules.zonedDates is not set: nothing to compare');
const packs = loadRulePacks(config.rules.packDir);
const calendars = packs.funderIds
  .flatMap((id) => packs.get(id) ?? [])
  .map((p) => ({
    timeZone: p.time_zone,
    holidays: p.deadline.holidays,
  }));

const start = Date.parse('2026-12-07T12:00:00Z');
const YEAR_MS = 365 * 86_400_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const zones = [...new Set(calendars.map((c) => c.timeZone))].join(', ');
console.log(
  `businessDaysBetween, ${calls} calls x ${rounds} rounds, ${calendars.length} packs (${zones}), cache ${limits.maxZones} zones x ${limits.bucketsPerZone} hours`,
);

for (const deadlineCount of deadlineCounts) {
  // Deadlines spread over the next year, each in an hour of its own.
  const deadlines = Array.from(
    { length: deadlineCount },
    (_, i) => start + Math.floor(((i * 7919) % deadlineCount) * (YEAR_MS / deadlineCount)),
  );
  const run = (): { ns: number; sum: number } => {
    let sum = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const cal = calendars[i % calendars.length];
      const deadline = deadlines[i % deadlines.length] ?? start;
      if (cal) sum += businessDaysBetween(start + i, deadline, cal.timeZone, cal.holidays);
    }
    return { ns: Number(process.hrtime.bigint() - t0) / calls, sum };
  };
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < rounds; r++) {
    configureZonedDateCache({ maxZones: 0, bucketsPerZone: 0 });
    const a = run();
    configureZonedDateCache(limits);
    const b = run();
    if (a.sum !== b.sum) {
      throw new Error(`the paths disagree: ${a.sum} without, ${b.sum} with the cache`);
    }
    off.push(a.ns);
    on.push(b.ns);
  }
  console.log(
    `${deadlineCount} distinct deadlines: median ns per call: Intl ${median(off).toFixed(0)}, cached ${median(on).toFixed(0)} (${(median(off) / median(on)).toFixed(1)}x; rounds Intl ${off.map((x) => x.toFixed(0)).join('/')}, cached ${on.map((x) => x.toFixed(0)).join('/')})`,
  );
}
