/**
 * Submission to funder portals (issue 5): how much of each funder's portal
 * limit the submission stage uses while a backlog exists, and the latency the
 * stack adds on top of the portal's own.
 *
 *   node --import tsx bench/submission-throughput.ts [--rounds N] [--replicas N]
 *        [--limits 40,20,10] [--backlog-seconds S] [--portal-latency-ms MS]
 *        [--paced-share F] [--paced-seconds S] [--json]
 *
 * One funder simulator (one funder per limit, token bucket with burst = rate,
 * a fixed answer latency) and N submission replicas in a fresh consumer group,
 * each funder's client rate = its portal limit. Started once, used by every
 * round, stopped on exit (errors and Ctrl-C included).
 *
 * Utilization: each round produces about S seconds of work per funder at once
 * (limit x S routed grants, interleaved), samples the simulator's `created`
 * counter every 250 ms and takes each funder's rate between its 10% and its
 * 90% mark, against its limit; the simulator's 429 count must be 0.
 * Latency: each round paces grants at a share of every limit for S seconds,
 * one at a time per funder; per grant, the timestamp of its first
 * grants.status.v1 record minus that of its grants.routed.v1 record, minus the
 * portal's fixed latency. Medians over the rounds. Also per round: where the
 * time goes (the status record's submitted_at is when the handler had the
 * portal's answer), whether the grant's replica was still busy with an earlier
 * grant when it arrived, the CPU of every process involved and of the rest of
 * the machine, and how many routed grants of others (tests, the main job)
 * shared grants.routed.v1 meanwhile: those make a round unrepresentative.
 * With --json, run it as `npm run -s bench:submission -- --json` so that npm's
 * banner does not precede the document. See docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { GrantStatusV1Avro, TOPICS, type GrantStatusV1 } from '@grantstream/contracts';
import { stopStages, type StageProcess } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  aRoutedGrant,
  testClients,
  uniqueName,
  waitForLog,
  RETRY_TIER_TOPICS,
  clientFor,
  decodeFramed,
  produceRouted,
  scenarioLogDir,
  simFunder,
  sleep,
  startServiceGroup,
  startSimulator,
  tokenEnv,
  type ServiceGroup,
  type SimFunderStats,
  type Simulator,
} from '@grantstream/testing';

// ---------------------------------------------------------------- options

interface Options {
  rounds: number;
  replicas: number;
  limits: number[];
  backlogSeconds: number;
  portalLatencyMs: number;
  pacedShare: number;
  pacedSeconds: number;
  json: boolean;
}

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

function parseOptions(argv: readonly string[]): Options {
  return new Command()
    .option('--rounds <n>', 'rounds of each phase', positive('--rounds'), 3)
    .option('--replicas <n>', 'submission replicas', positive('--replicas'), 3)
    .option(
      '--limits <list>',
      'portal limits (requests/s), one funder each',
      (v) => v.split(',').map(positive('--limits')),
      [40, 20, 10],
    )
    .option(
      '--backlog-seconds <s>',
      'work per funder in a backlog',
      positive('--backlog-seconds'),
      20,
    )
    .option('--portal-latency-ms <ms>', 'fixed answer latency', Number, 50)
    .option(
      '--paced-share <f>',
      'latency phase load, share of each limit',
      positive('--paced-share'),
      0.5,
    )
    .option('--paced-seconds <s>', 'latency phase duration', positive('--paced-seconds'), 20)
    .option('--json', 'print one JSON document instead of tables', false)
    .parse(argv)
    .opts<Options>();
}

// ---------------------------------------------------------------- helpers

const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
const round1 = (x: number) => Math.round(x * 10) / 10;

/** CPU milliseconds (user + system) a process has used so far; 0 once it is gone. */
const cpuMs = (pid: number | undefined): number => {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
};

/** CPU milliseconds the whole machine has been busy (all cores, /proc/stat). */
const machineBusyMs = (): number => {
  const [, user, nice, system, , , irq, softirq, steal] = (
    readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  )
    .split(/\s+/)
    .map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10
  );
};

/** The local broker's pid, found by the stack's command-line marker. */
const brokerPid = (): number | undefined => {
  try {
    const out = execFileSync('pgrep', ['-f', 'grantstream.stack=.*#kafka'], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
};

/** A benchmark funder: its simulator id and the limit both sides are configured with. */
interface Funder {
  id: string;
  limit: number;
}

/** Sums the submission and runner counters of every replica, by metric name and labels. */
async function scrapeCounters(urls: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    for (const line of text.split('\n')) {
      const m = /^(grantstream_(?:submission|stage)_[a-z_]+_total)(\{[^}]*\})? (\S+)$/.exec(line);
      if (!m) continue;
      // Drop the per-process default labels: replicas are summed.
      const labels = (m[2] ?? '').replace(/(service|stage)="[^"]*",?/g, '').replace(/,}$/, '}');
      const key = `${m[1]}${labels === '{}' ? '' : labels}`;
      out.set(key, (out.get(key) ?? 0) + Number(m[3]));
    }
  }
  return out;
}

const diffCounters = (after: Map<string, number>, before: Map<string, number>) =>
  new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v));

/** One funder's counter deltas: attempts by outcome and retries by where they waited. */
function funderCounters(delta: Map<string, number>, funderId: string) {
  const attempts: Record<string, number> = {};
  const retries: Record<string, number> = {};
  for (const [key, value] of delta) {
    if (!key.includes(`funder="${funderId}"`)) continue;
    const outcome = /outcome="([^"]+)"/.exec(key)?.[1];
    const tier = /tier="([^"]+)"/.exec(key)?.[1];
    if (key.startsWith('grantstream_submission_attempts_total') && outcome)
      attempts[outcome] = value;
    if (key.startsWith('grantstream_submission_retries_total') && tier)
      retries[tier.replace(/^grants\.submission\.retry\.(.+)\.v1$/, '$1')] = value;
  }
  return { attempts, retries };
}

/** What the bench saw of one grant. */
interface Seen {
  routedAt?: number;
  /** The grants.routed.v1 partition: which replica handled the grant. */
  partition?: number;
  statusAt?: number;
  /** When the handler had the portal's answer (the status record's submitted_at). */
  answeredAt?: number;
  /** When this process read the status record (read_committed: after the commit). */
  readAt?: number;
  status?: string;
}

/**
 * Follows grants.routed.v1 and grants.status.v1 from their ends now (so
 * nothing produced afterwards is missed) and records, per grant of `ids`, the
 * routed record's timestamp and its first status record.
 */
async function trackGrants(
  clients: PlatformClients,
  ids: ReadonlySet<string>,
  timeoutMs: number,
): Promise<{ seen: Map<string, Seen>; done: Promise<boolean>; foreignRouted: () => number }> {
  const from = await clients.io.endOffsets([TOPICS.ROUTED, TOPICS.STATUS]);
  const seen = new Map<string, Seen>();
  let routed = 0;
  let statuses = 0;
  // Routed grants of others (tests, the main job) that this run's replicas dead-letter as unknown funders.
  let foreign = 0;
  const done = clients.io.follow(
    from,
    (m) => {
      const id = m.key?.toString() ?? '';
      if (!ids.has(id)) {
        if (m.topic === TOPICS.ROUTED) foreign += 1;
        return false;
      }
      let s = seen.get(id);
      if (!s) seen.set(id, (s = {}));
      if (m.topic === TOPICS.ROUTED && s.routedAt === undefined) {
        s.routedAt = Number(m.timestamp);
        s.partition = m.partition;
        routed += 1;
      } else if (m.topic === TOPICS.STATUS && s.statusAt === undefined) {
        const value = decodeFramed<GrantStatusV1>(m.value, GrantStatusV1Avro);
        s.statusAt = Number(m.timestamp);
        s.answeredAt = Number(value.submitted_at);
        s.readAt = Date.now();
        s.status = value.status;
        statuses += 1;
      }
      return routed >= ids.size && statuses >= ids.size;
    },
    timeoutMs,
  );
  return { seen, done, foreignRouted: () => foreign };
}

/** The replica (index in the group) that owns each grants.routed.v1 partition, from the last assignment each logged. */
function routedOwners(group: ServiceGroup): Map<number, number> {
  const owner = new Map<number, number>();
  group.processes.forEach((p, replica) => {
    let text = '';
    try {
      text = readFileSync(p.logFile, 'utf8');
    } catch {
      return;
    }
    const line = text
      .split('\n')
      .filter((l) => l.includes('"assignment"'))
      .pop();
    if (!line) return;
    const logged = JSON.parse(line) as { assignment?: Record<string, number[]> };
    for (const partition of logged.assignment?.[TOPICS.ROUTED] ?? []) owner.set(partition, replica);
  });
  return owner;
}

/** Routed → portal answer − portal latency, for grants whose replica was idle or busy when they arrived. */
interface BusySplit {
  idle: LatencyStats;
  busy: LatencyStats;
  /** For a busy arrival: how long the replica's earlier grant still took (until its status record). */
  busyRemaining: LatencyStats;
  /** For a busy arrival: routed → answer − portal − that remaining time. */
  busyAfterRemaining: LatencyStats;
}

/**
 * kafkajs fetches again only once every batch of its previous fetch is
 * handled (one fetcher per broker). A grant is "busy" when, as it was
 * produced, its replica was still handling an earlier grant (produced
 * before it, status record written after): it cannot be fetched before that
 * grant's chunk is committed.
 */
function busySplit(
  seen: readonly Seen[],
  owners: ReadonlyMap<number, number>,
  portalMs: number,
): BusySplit {
  const byReplica = new Map<number, Required<Seen>[]>();
  for (const s of seen) {
    if (
      s.routedAt === undefined ||
      s.statusAt === undefined ||
      s.answeredAt === undefined ||
      s.partition === undefined
    )
      continue;
    const replica = owners.get(s.partition) ?? -1;
    const list = byReplica.get(replica) ?? [];
    list.push(s as Required<Seen>);
    byReplica.set(replica, list);
  }
  const idle: number[] = [];
  const busy: number[] = [];
  const remaining: number[] = [];
  const after: number[] = [];
  for (const list of byReplica.values()) {
    for (const g of list) {
      let left = -1;
      for (const h of list)
        if (h.routedAt < g.routedAt && h.statusAt > g.routedAt)
          left = Math.max(left, h.statusAt - g.routedAt);
      const t = g.answeredAt - g.routedAt - portalMs;
      if (left < 0) idle.push(t);
      else {
        busy.push(t);
        remaining.push(left);
        after.push(t - left);
      }
    }
  }
  return {
    idle: statsOf(idle),
    busy: statsOf(busy),
    busyRemaining: statsOf(remaining),
    busyAfterRemaining: statsOf(after),
  };
}

interface SimStats {
  funders: Record<string, SimFunderStats>;
}

const simStats = async (simulator: Simulator): Promise<SimStats> =>
  (await (await fetch(`${simulator.url}/__sim/stats`)).json()) as SimStats;

/** Back to the configured funders with zero counters: each round counts only its own calls. */
async function resetSimulator(simulator: Simulator): Promise<void> {
  const response = await fetch(`${simulator.url}/__sim/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`simulator reset: HTTP ${response.status}`);
  await response.body?.cancel();
}

/** Waits until the group has `members` members and is stable (no rebalance in progress). */
async function groupSettled(
  clients: PlatformClients,
  group: string,
  members: number,
  timeoutMs: number,
): Promise<void> {
  const admin = clients.kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [g] = (await admin.describeGroups([group])).groups;
      if (g?.state === 'Stable' && g.members.length === members) return;
      if (Date.now() > deadline)
        throw new Error(`group ${group}: ${g?.state} with ${g?.members.length} members`);
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a consumer group the bench made; a failure only leaves it behind. */
async function deleteGroup(clients: PlatformClients, group: string): Promise<void> {
  const admin = clients.kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([group]);
  } catch {
    // Left behind, like the groups of the integration scenarios.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Processes this run started, stopped once whatever way it ends. */
class Processes {
  private readonly list: StageProcess[] = [];
  private stopping: Promise<void> | null = null;

  add(...processes: StageProcess[]): void {
    this.list.push(...processes);
  }

  get pids(): number[] {
    return this.list.map((p) => p.child.pid ?? 0).filter((pid) => pid > 0);
  }

  /** SIGTERM (the services commit or abort their chunk and leave the group), SIGKILL after 10 s. */
  stop(): Promise<void> {
    this.stopping ??= stopStages(this.list, 10_000);
    return this.stopping;
  }

  /** Last resort when the bench exits without {@link stop} finishing. */
  killNow(): void {
    for (const p of this.list)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------- phases

interface UtilizationFunder {
  funder: string;
  limit: number;
  grants: number;
  /** created/s from the 10% to the 90% mark. */
  rate: number;
  utilization: number;
  /** created/s from the first call to the last. */
  wholeRate: number;
  rateLimited: number;
  requests: number;
  created: number;
  maxConcurrent: number;
  attempts: Record<string, number>;
  retries: Record<string, number>;
  /** Longest stretch (ms) between the 10% and 90% marks with no new submission. */
  longestStallMs: number;
}

interface UtilizationRound {
  round: number;
  seconds: number;
  complete: boolean;
  funders: UtilizationFunder[];
  transactions: number;
  deadLetters: number;
  /** Routed grants of others produced during the round (a concurrent test or main job). */
  foreignRouted: number;
  cpuMs: Record<string, number>;
  /** The simulator's created counters every 250 ms (ms since the first produce). */
  samples: { ms: number; created: Record<string, number> }[];
}

interface LatencyStats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface LatencyRound {
  round: number;
  complete: boolean;
  /** Added latency per funder and `all`. */
  added: Record<string, LatencyStats>;
  /** Routed → portal answer in the handler, minus the portal latency (fetch, limiter, HTTP). */
  toAnswer: LatencyStats;
  /** Portal answer → status record timestamp (rest of the chunk, transaction send). */
  answerToRecord: LatencyStats;
  /** Status record timestamp → read by a read_committed follower (commit, fetch). */
  recordToRead: LatencyStats;
  /** routed → answer − portal, split by whether the grant's replica was busy when it arrived. */
  replica: BusySplit;
  producedPerSecond: Record<string, number>;
  rateLimited: number;
  transactions: number;
  /** Routed grants of others produced during the round (a concurrent test or main job). */
  foreignRouted: number;
  cpuMs: Record<string, number>;
}

const statsOf = (xs: number[]): LatencyStats => {
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: pct(sorted, 50),
    p90: pct(sorted, 90),
    p99: pct(sorted, 99),
    max: sorted[sorted.length - 1] ?? 0,
  };
};

class Bench {
  private readonly log: (line: string) => void;

  constructor(
    private readonly o: Options,
    private readonly clients: PlatformClients,
    private readonly simulator: Simulator,
    private readonly group: ServiceGroup,
    private readonly funders: readonly Funder[],
  ) {
    // With --json, stdout carries only the document.
    this.log = o.json ? (l) => process.stderr.write(`${l}\n`) : (l) => console.log(l);
  }

  private cpuOf(): Record<string, number> {
    const out: Record<string, number> = {
      submission: this.group.processes.reduce((sum, p) => sum + cpuMs(p.child.pid), 0),
      simulator: cpuMs(this.simulator.process.child.pid),
      broker: cpuMs(brokerPid()),
      bench: cpuMs(process.pid),
      machine: machineBusyMs(),
    };
    return out;
  }

  /** CPU used between two {@link cpuOf} readings; `other` is the machine's minus this run's and the broker's. */
  private static cpuDelta(after: Record<string, number>, before: Record<string, number>) {
    const delta: Record<string, number> = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]),
    );
    const ours = ['submission', 'simulator', 'broker', 'bench'].reduce(
      (sum, k) => sum + (delta[k] ?? 0),
      0,
    );
    delta['other'] = (delta['machine'] ?? 0) - ours;
    return delta;
  }

  private static tag(): string {
    return uniqueName('b')
      .replace(/[^a-z0-9]/gi, '')
      .slice(-6)
      .toUpperCase();
  }

  async utilizationRound(round: number): Promise<UtilizationRound> {
    const { o, funders, simulator } = this;
    await resetSimulator(simulator);
    const tag = Bench.tag();
    const perFunder = funders.map((f) => ({
      f,
      grants: Array.from({ length: Math.round(f.limit * o.backlogSeconds) }, (_, i) =>
        aRoutedGrant(`${f.id}-2026-${String(i).padStart(5, '0')}-U${tag}`),
      ),
    }));
    // Interleaved by progress through each funder's list: every partition and
    // every chunk holds all funders in the proportion of their limits.
    const all = perFunder
      .flatMap(({ grants }) => grants.map((g, i) => ({ g, at: (i + 0.5) / grants.length })))
      .sort((a, b) => a.at - b.at)
      .map((x) => x.g);
    const ids = new Set(all.map((g) => g.grant_id));
    const timeoutMs = (o.backlogSeconds * 6 + 120) * 1000;
    const tracker = await trackGrants(this.clients, ids, timeoutMs);
    const metrics0 = await scrapeCounters(this.group.metricsUrls);
    const cpu0 = this.cpuOf();

    const samples: { at: number; created: Record<string, number> }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const at = Date.now();
        // A lost sample only widens the gap between two others.
        const stats = await simStats(simulator).catch(() => null);
        if (stats)
          samples.push({
            at,
            created: Object.fromEntries(
              funders.map((f) => [f.id, stats.funders[f.id]?.created ?? 0]),
            ),
          });
        await sleep(Math.max(0, at + 250 - Date.now()));
      }
    })();
    const started = Date.now();
    for (let i = 0; i < all.length; i += 200)
      await produceRouted(this.clients, all.slice(i, i + 200));
    const complete = await tracker.done;
    const seconds = (Date.now() - started) / 1000;
    sampling = false;
    await sampler;
    const final = await simStats(simulator);
    // The last calls may have come after the last 250 ms sample.
    samples.push({
      at: Date.now(),
      created: Object.fromEntries(funders.map((f) => [f.id, final.funders[f.id]?.created ?? 0])),
    });
    const delta = diffCounters(await scrapeCounters(this.group.metricsUrls), metrics0);
    const cpu = Bench.cpuDelta(this.cpuOf(), cpu0);

    const rows = perFunder.map(({ f, grants }): UtilizationFunder => {
      const n = grants.length;
      const c = (s: (typeof samples)[number]) => s.created[f.id] ?? 0;
      const mark = (share: number) => samples.find((s) => c(s) >= n * share);
      const start = mark(0.1);
      const end = mark(0.9);
      const rate = start && end ? ((c(end) - c(start)) * 1000) / (end.at - start.at || 1) : 0;
      const first = samples.find((s) => c(s) > 0);
      const last = mark(1);
      const wholeRate =
        first && last && last !== first ? ((c(last) - c(first)) * 1000) / (last.at - first.at) : 0;
      let longestStallMs = 0;
      if (start && end) {
        let since = start.at;
        let before = c(start);
        for (const s of samples) {
          if (s.at <= start.at || s.at > end.at) continue;
          if (c(s) > before) {
            before = c(s);
            since = s.at;
          } else longestStallMs = Math.max(longestStallMs, s.at - since);
        }
      }
      const stats = final.funders[f.id];
      return {
        funder: f.id,
        limit: f.limit,
        grants: n,
        rate: round1(rate),
        utilization: round1((rate / f.limit) * 100),
        wholeRate: round1(wholeRate),
        rateLimited: stats?.rateLimited ?? -1,
        requests: stats?.requests ?? 0,
        created: stats?.created ?? 0,
        maxConcurrent: stats?.maxConcurrent ?? 0,
        ...funderCounters(delta, f.id),
        longestStallMs,
      };
    });
    const result: UtilizationRound = {
      round,
      seconds: round1(seconds),
      complete,
      funders: rows,
      transactions: delta.get('grantstream_stage_transactions_committed_total') ?? 0,
      deadLetters: [...delta]
        .filter(([k]) => k.startsWith('grantstream_stage_dead_letters_total'))
        .reduce((sum, [, v]) => sum + v, 0),
      foreignRouted: tracker.foreignRouted(),
      cpuMs: cpu,
      samples: samples.map((x) => ({ ms: x.at - started, created: x.created })),
    };
    this.log(
      `utilization round ${round}: ${all.length} grants in ${result.seconds} s${complete ? '' : ' (INCOMPLETE)'}; ${rows
        .map(
          (r) =>
            `${r.funder} ${r.rate}/s of ${r.limit} (${r.utilization}%, 429s ${r.rateLimited}, throttled ${r.attempts['throttled'] ?? 0}, stall ${r.longestStallMs} ms)`,
        )
        .join(
          '; ',
        )}; ${result.transactions} transactions; ${result.foreignRouted} foreign routed records; CPU ms ${JSON.stringify(cpu)}`,
    );
    return result;
  }

  async latencyRound(round: number): Promise<LatencyRound> {
    const { o, funders, simulator } = this;
    await resetSimulator(simulator);
    const tag = Bench.tag();
    const plans = funders.map((f) => {
      const rate = f.limit * o.pacedShare;
      const count = Math.max(1, Math.round(rate * o.pacedSeconds));
      return {
        f,
        intervalMs: 1000 / rate,
        grants: Array.from({ length: count }, (_, i) =>
          aRoutedGrant(`${f.id}-2026-${String(i).padStart(5, '0')}-L${tag}`),
        ),
      };
    });
    const ids = new Set(plans.flatMap((p) => p.grants.map((g) => g.grant_id)));
    const tracker = await trackGrants(this.clients, ids, (o.pacedSeconds + 120) * 1000);
    const metrics0 = await scrapeCounters(this.group.metricsUrls);
    const cpu0 = this.cpuOf();
    const start = Date.now() + 100;
    // One grant at a time per funder at its own interval: two grants of one
    // funder never arrive together, so the limiter's spacing is not timed.
    await Promise.all(
      plans.map(async ({ grants, intervalMs }) => {
        for (const [k, g] of grants.entries()) {
          await sleep(Math.max(0, start + k * intervalMs - Date.now()));
          await produceRouted(this.clients, [g]);
        }
      }),
    );
    const complete = await tracker.done;
    const final = await simStats(simulator);
    const delta = diffCounters(await scrapeCounters(this.group.metricsUrls), metrics0);
    const cpu = Bench.cpuDelta(this.cpuOf(), cpu0);

    const added: Record<string, number[]> = { all: [] };
    const toAnswer: number[] = [];
    const answerToRecord: number[] = [];
    const recordToRead: number[] = [];
    const producedPerSecond: Record<string, number> = {};
    for (const { f, grants } of plans) {
      const list: number[] = (added[f.id] = []);
      const routedTimes: number[] = [];
      for (const g of grants) {
        const s = tracker.seen.get(g.grant_id);
        if (s?.routedAt === undefined) continue;
        routedTimes.push(s.routedAt);
        if (s.statusAt === undefined || s.answeredAt === undefined || s.readAt === undefined)
          continue;
        const a = s.statusAt - s.routedAt - o.portalLatencyMs;
        list.push(a);
        added['all']?.push(a);
        toAnswer.push(s.answeredAt - s.routedAt - o.portalLatencyMs);
        answerToRecord.push(s.statusAt - s.answeredAt);
        recordToRead.push(s.readAt - s.statusAt);
      }
      routedTimes.sort((a, b) => a - b);
      const span = (routedTimes[routedTimes.length - 1] ?? 0) - (routedTimes[0] ?? 0);
      producedPerSecond[f.id] = span > 0 ? round1(((routedTimes.length - 1) * 1000) / span) : 0;
    }
    const result: LatencyRound = {
      round,
      complete,
      added: Object.fromEntries(Object.entries(added).map(([k, v]) => [k, statsOf(v)])),
      toAnswer: statsOf(toAnswer),
      answerToRecord: statsOf(answerToRecord),
      recordToRead: statsOf(recordToRead),
      replica: busySplit([...tracker.seen.values()], routedOwners(this.group), o.portalLatencyMs),
      producedPerSecond,
      rateLimited: funders.reduce((sum, f) => sum + (final.funders[f.id]?.rateLimited ?? 0), 0),
      transactions: delta.get('grantstream_stage_transactions_committed_total') ?? 0,
      foreignRouted: tracker.foreignRouted(),
      cpuMs: cpu,
    };
    const fmt = (s: LatencyStats) => `${s.p50}/${s.p90}/${s.p99}/${s.max}`;
    this.log(
      `latency round ${round}: ${result.added['all']?.n ?? 0}/${ids.size} grants${complete ? '' : ' (INCOMPLETE)'}, added p50/p90/p99/max ms: ${Object.entries(
        result.added,
      )
        .map(([k, s]) => `${k} ${fmt(s)}`)
        .join(
          ', ',
        )}; routed→answer−portal ${fmt(result.toAnswer)}, answer→record ${fmt(result.answerToRecord)}, record→read ${fmt(result.recordToRead)}; routed→answer−portal with the replica idle (${result.replica.idle.n}) ${fmt(result.replica.idle)}, busy (${result.replica.busy.n}) ${fmt(result.replica.busy)}, busy minus the earlier grant's remaining time ${fmt(result.replica.busyAfterRemaining)}; produced/s ${JSON.stringify(producedPerSecond)}; 429s ${result.rateLimited}; ${result.transactions} transactions; ${result.foreignRouted} foreign routed records; CPU ms ${JSON.stringify(cpu)}`,
    );
    return result;
  }
}

// ---------------------------------------------------------------- report

function report(
  o: Options,
  funders: readonly Funder[],
  utilization: UtilizationRound[],
  latency: LatencyRound[],
): void {
  const util = funders.map((f) => {
    const rows = utilization.map((r) => r.funders.find((x) => x.funder === f.id));
    const rates = rows.map((r) => r?.rate ?? 0);
    return {
      funder: f.id,
      limit: f.limit,
      rounds: rates,
      rate: median(rates),
      utilization: median(rows.map((r) => r?.utilization ?? 0)),
      rateLimited: rows.reduce((sum, r) => sum + (r?.rateLimited ?? 0), 0),
      throttled: rows.map((r) => r?.attempts['throttled'] ?? 0),
    };
  });
  const keys = ['all', ...funders.map((f) => f.id)];
  const lat = Object.fromEntries(
    keys.map((k) => {
      const of = (pick: (s: LatencyStats) => number) =>
        median(latency.map((r) => (r.added[k] ? pick(r.added[k]) : 0)));
      return [
        k,
        {
          n: latency.reduce((sum, r) => sum + (r.added[k]?.n ?? 0), 0),
          p50: of((s) => s.p50),
          p90: of((s) => s.p90),
          p99: of((s) => s.p99),
          max: of((s) => s.max),
          roundsP99: latency.map((r) => r.added[k]?.p99 ?? 0),
        },
      ];
    }),
  );
  const limitOf = (k: string) => funders.find((f) => f.id === k)?.limit;
  const overall = lat['all'];
  const summary = `SUMMARY ${o.replicas} replicas, portal latency ${o.portalLatencyMs} ms: utilization ${util
    .map((u) => `${u.limit}/s ${u.utilization}%`)
    .join(
      ', ',
    )} (median of ${o.rounds}, ${util.reduce((s, u) => s + u.rateLimited, 0)} × 429); added latency at ${Math.round(o.pacedShare * 100)}% load p50 ${overall?.p50} / p99 ${overall?.p99} ms (median of ${o.rounds})`;

  if (o.json) {
    console.log(
      JSON.stringify(
        {
          options: o,
          funders,
          utilization: { median: util, rounds: utilization },
          latency: { median: lat, rounds: latency },
          summary,
        },
        null,
        1,
      ),
    );
    return;
  }
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log('');
  console.log(
    `Utilization: backlog of ${o.backlogSeconds} s per funder produced at once, ${o.replicas} replicas, portal latency ${o.portalLatencyMs} ms`,
  );
  console.log(
    `${'funder'.padEnd(12)}${pad('limit', 7)}${utilization.map((r) => pad(`round ${r.round}`, 10)).join('')}${pad('median', 9)}${pad('util', 8)}${pad('429s', 6)}  throttled/round`,
  );
  for (const u of util)
    console.log(
      `${u.funder.padEnd(12)}${pad(u.limit, 7)}${u.rounds.map((r) => pad(r, 10)).join('')}${pad(u.rate, 9)}${pad(`${u.utilization}%`, 8)}${pad(u.rateLimited, 6)}  ${u.throttled.join(', ')}`,
    );
  console.log('');
  console.log(
    `Added latency (ms): ${Math.round(o.pacedShare * 100)}% of each limit for ${o.pacedSeconds} s; status record − routed record − ${o.portalLatencyMs} ms; median of ${o.rounds} rounds`,
  );
  console.log(
    `${'funder'.padEnd(12)}${pad('limit', 7)}${pad('grants', 8)}${pad('p50', 7)}${pad('p90', 7)}${pad('p99', 7)}${pad('max', 7)}  p99 per round`,
  );
  for (const k of [...funders.map((f) => f.id), 'all']) {
    const s = lat[k];
    if (!s) continue;
    console.log(
      `${k.padEnd(12)}${pad(limitOf(k) ?? '', 7)}${pad(s.n, 8)}${pad(s.p50, 7)}${pad(s.p90, 7)}${pad(s.p99, 7)}${pad(s.max, 7)}  ${s.roundsP99.join(', ')}`,
    );
  }
  const mid = (pick: (r: LatencyRound) => LatencyStats) =>
    `${median(latency.map((r) => pick(r).p50))}/${median(latency.map((r) => pick(r).p99))}`;
  console.log(
    `breakdown, p50/p99 ms (median of rounds): routed→answer−portal ${mid((r) => r.toAnswer)}, answer→status record ${mid((r) => r.answerToRecord)}, record→read (not in the figure) ${mid((r) => r.recordToRead)}; replica idle at arrival ${mid((r) => r.replica.idle)}, busy ${mid((r) => r.replica.busy)}, busy minus the earlier grant's remaining time ${mid((r) => r.replica.busyAfterRemaining)}`,
  );
  // Others on the machine and on grants.routed.v1 show up here, not in the figures.
  const other = (rounds: { cpuMs: Record<string, number> }[]) =>
    rounds.map((r) => round1((r.cpuMs['other'] ?? 0) / 1000)).join(', ');
  console.log(
    `other processes' CPU s per round: utilization ${other(utilization)}; latency ${other(latency)}. Foreign routed records per round: utilization ${utilization.map((r) => r.foreignRouted).join(', ')}; latency ${latency.map((r) => r.foreignRouted).join(', ')}`,
  );
  console.log('');
  console.log(summary);
}

// ---------------------------------------------------------------- main

async function main(processes: Processes): Promise<void> {
  const o = parseOptions(process.argv);
  const clients = await testClients().catch((err: unknown) => {
    throw new Error(`no broker? run \`npm run stack:up\` first (${String(err)})`);
  });
  let group: ServiceGroup | undefined;
  try {
    // Funder ids of this run only: the limiters in Redis are keyed by funder id.
    const id = uniqueName('s')
      .replace(/[^a-z0-9]/gi, '')
      .slice(-5)
      .toUpperCase();
    const funders: Funder[] = o.limits.map((limit, i) => ({
      id: `B${String.fromCharCode(65 + i)}${id}`,
      limit,
    }));
    const logDir = scenarioLogDir('bench-submission');
    const simulator = await startSimulator(
      Object.fromEntries(
        funders.map((f) => [
          f.id,
          simFunder({
            rateLimitPerSecond: f.limit,
            burst: Math.max(1, Math.round(f.limit)),
            latencyMs: { min: o.portalLatencyMs, max: o.portalLatencyMs },
          }),
        ]),
      ),
      logDir,
    );
    processes.add(simulator.process);
    group = await startServiceGroup(clients, {
      service: 'submission',
      inputs: [TOPICS.ROUTED, ...RETRY_TIER_TOPICS],
      replicas: o.replicas,
      logDir,
      env: {
        ...tokenEnv(simulator),
        GRANTSTREAM__FUNDERS: JSON.stringify(
          Object.fromEntries(
            funders.map((f) => [f.id, clientFor(f.id, simulator, { ratePerSecond: f.limit })]),
          ),
        ),
      },
    });
    processes.add(...group.processes);
    const log = o.json ? (l: string) => process.stderr.write(`${l}\n`) : console.log;
    log(
      `funders ${funders.map((f) => `${f.id} ${f.limit}/s`).join(', ')}; ${o.replicas} submission replicas (group ${group.group}); logs in ${logDir}`,
    );
    for (const p of group.processes) await waitForLog(p, /stage service consuming/, 120_000);
    await groupSettled(clients, group.group, o.replicas, 60_000);
    // Assignments settled; the first fetches of the idle partitions go out now.
    await sleep(3000);

    const bench = new Bench(o, clients, simulator, group, funders);
    const utilization: UtilizationRound[] = [];
    for (let r = 1; r <= o.rounds; r++) utilization.push(await bench.utilizationRound(r));
    const latency: LatencyRound[] = [];
    for (let r = 1; r <= o.rounds; r++) latency.push(await bench.latencyRound(r));
    report(o, funders, utilization, latency);
  } finally {
    await processes.stop();
    if (group) await deleteGroup(clients, group.group);
    await clients.close();
  }
}

const processes = new Processes();
let exiting = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (exiting) return;
    exiting = true;
    console.error(`${signal}: stopping the simulator and the submission replicas`);
    void processes.stop().finally(() => process.exit(130));
  });
}
process.on('exit', () => processes.killNow());

main(processes).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    void processes.stop().finally(() => process.exit(1));
  },
);
