/**
 * The console's read model at 1,000,000 audit events: how fast it indexes
 * them, how fast grant search and a grant page answer over them, how much
 * memory the process takes while and after indexing, and that a restart goes
 * on from the stored position instead of re-reading (docs/benchmarks.md,
 * "Console read model").
 *
 *   npm run bench:read-model -- [--events 1000000] [--queries 1000] [--paths direct,broker]
 *                               [--resume-events 1000] [--dir /tmp] [--keep]
 *
 * The events are generated, deterministic from their grant number: grants of
 * six funders (weighted), each with a life of 3 to 9 events of the shapes the
 * stages write (INGESTED, VALIDATED, NORMALIZED, FORWARD or REJECT,
 * SUBMITTED, RETRY, STATUS_CHANGED, NOTIFIED, DEAD_LETTER with an error
 * category), their hash chain built by libs/audit, a deadline among the
 * ingest details, spread over a year.
 *
 * Two ingest paths, each into its own fresh store file, each in a fresh
 * child process (so each one's RSS is its own):
 * - direct: the rows the projector builds (auditRowOf) written by
 *   ReadModelStore.apply in batches of console.readModel.maxBatchRecords with
 *   their positions, as the projector writes them; no broker, no Avro.
 * - broker: the events produced (untimed) as Avro to a fresh audit topic on
 *   the configured broker, with fresh status and dead-letter topics beside
 *   it, then one Projector pass (the console's own code: group-less
 *   read_committed fetches, Avro decode, zod parse, the same apply).
 * Then, in another fresh process per store, the queries: grant id exact,
 * prefix, funder + status, error category, deadline range, last-activity
 * range (the console's searchGrants with its page size) and the grant page
 * (store.grant, the chain verification and the page's HTML).
 * Last, for the broker store, a fresh process opens the store and runs a
 * projector pass: it must read nothing; then `--resume-events` more events
 * are produced and the next pass must read exactly those.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_GENESIS_HASH, buildAuditEvent, payloadHashOf } from '@grantstream/audit';
import { TOPICS, type AuditActionV1, type AuditEventV1 } from '@grantstream/contracts';
import { TopicScanner, createPlatformClients, type PlatformClients } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import {
  Projector,
  ReadModelStore,
  auditRowOf,
  type AuditRow,
  type GrantQuery,
  type ReadModelSection,
} from '@grantstream/read-model';
import { createScopedTopics, deleteScopedTopics, testConfig } from '@grantstream/testing';
import { loadConsoleSettings } from '../services/console/src/console.config';
import { grantView } from '../services/console/src/domain/grant-view';
import { grantPage } from '../services/console/src/pages/grants.page';

/** Funders and their share of grants (out of 100). */
const FUNDERS: readonly [string, number][] = [
  ['NSF', 34],
  ['NIH', 22],
  ['SCDA', 16],
  ['BCF', 12],
  ['NEH', 10],
  ['DOE', 6],
];
const PARTITIONS = 6;
/** The first grant's first event; grants start over a year from here. */
const EPOCH = Date.UTC(2026, 0, 1);
const YEAR_MS = 365 * 24 * 3_600_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Grants generated together: their events interleave in time, as the stages write them. */
const WAVE = 500;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** A small deterministic generator (mulberry32): the same grant gets the same life in every process. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function funderOf(g: number): string {
  let n = Math.floor(random(g * 7 + 3)() * 100);
  for (const [funder, share] of FUNDERS) {
    if (n < share) return funder;
    n -= share;
  }
  return FUNDERS[0]![0];
}

/** The id of grant number `g`. */
function grantIdOf(g: number): string {
  return `${funderOf(g)}-2026-${String(g).padStart(7, '0')}`;
}

interface Step {
  stage: string;
  action: AuditActionV1;
  errorCategory?: string;
  details?: Record<string, string>;
  ruleSetVersion?: string;
}

/** A grant's life: the decisions the stages record for it, 3 to 9 of them. */
function lifeOf(g: number, grantId: string, deadline: number): Step[] {
  const r = random(g * 13 + 1);
  const steps: Step[] = [
    {
      stage: 'ingest',
      action: 'VALIDATED',
      ruleSetVersion: 'pack-2026.1',
      details: {
        attachments: String(1 + Math.floor(r() * 4)),
        attachment_bytes: String(20_000 + Math.floor(r() * 2_000_000)),
        submission_deadline: new Date(deadline).toISOString(),
        title: `Community project ${g}`,
      },
    },
    { stage: 'normalization', action: 'NORMALIZED', details: { field_changes: '3' } },
  ];
  const fate = r();
  if (fate < 0.06) {
    steps.push({
      stage: 'routing',
      action: 'REJECT',
      errorCategory: 'COMPLIANCE_BLOCK',
      ruleSetVersion: 'rules-2026.1',
      details: { flags: 'ERROR:DEADLINE_PASSED' },
    });
    steps.push({ stage: 'notification', action: 'NOTIFIED', details: { kind: 'BLOCKED' } });
    return steps;
  }
  if (fate < 0.09) {
    steps.push({
      stage: 'submission',
      action: 'DEAD_LETTER',
      errorCategory: 'ATTACHMENT_INVALID',
      details: { reason: 'attachment checksum mismatch' },
    });
    return steps;
  }
  steps.push({
    stage: 'routing',
    action: 'FORWARD',
    ruleSetVersion: 'rules-2026.1',
    details: { flags: r() < 0.2 ? 'WARNING:BUDGET_ROUNDED' : '' },
  });
  const retries = r() < 0.25 ? 1 + Math.floor(r() * 3) : 0;
  for (let i = 1; i <= retries; i += 1) {
    steps.push({
      stage: 'submission',
      action: 'RETRY',
      errorCategory: 'API_RATE_LIMIT',
      details: { attempt: String(i), http_status: '429' },
    });
  }
  steps.push({
    stage: 'submission',
    action: 'SUBMITTED',
    details: { tracking_number: `TRK-${grantId}`, status: 'RECEIVED' },
  });
  if (r() < 0.8) {
    const status = r() < 0.7 ? 'UNDER_REVIEW' : r() < 0.5 ? 'AWARDED' : 'DECLINED';
    steps.push({ stage: 'status-polling', action: 'STATUS_CHANGED', details: { status } });
    steps.push({ stage: 'notification', action: 'NOTIFIED', details: { kind: 'STATUS' } });
  }
  return steps;
}

/** One generated audit event with where the generator puts it in the topic. */
interface Generated {
  key: string;
  event: AuditEventV1;
  partition: number;
}

/**
 * Events of grants `from` on, `count` of them, in waves of {@link WAVE}
 * grants whose events interleave (step 1 of every grant of the wave, then
 * step 2, ...), as a topic holds them.
 */
function* generate(count: number, fromGrant = 0): Generator<Generated[]> {
  let produced = 0;
  for (let wave = fromGrant; produced < count; wave += WAVE) {
    const grants = Array.from({ length: WAVE }, (_, i) => {
      const g = wave + i;
      const grantId = grantIdOf(g);
      const start = EPOCH + Math.floor(random(g * 5 + 2)() * YEAR_MS);
      const deadline = start + (10 + Math.floor(random(g * 11 + 9)() * 80)) * DAY_MS;
      return {
        g,
        grantId,
        start,
        life: lifeOf(g, grantId, deadline),
        previous: AUDIT_GENESIS_HASH,
      };
    });
    const longest = Math.max(...grants.map((x) => x.life.length));
    for (let s = 0; s < longest && produced < count; s += 1) {
      const out: Generated[] = [];
      for (const x of grants) {
        const step = x.life[s];
        if (step === undefined || produced >= count) continue;
        const built = buildAuditEvent(
          {
            grantId: x.grantId,
            funderId: x.grantId.split('-')[0]!,
            auditTrailId: `at-${x.grantId}`,
            stage: step.stage,
            action: step.action,
            errorCategory: step.errorCategory ?? null,
            severity: step.errorCategory ? 'MEDIUM' : null,
            ruleSetVersion: step.ruleSetVersion ?? null,
            payloadHash: payloadHashOf(Buffer.from(`${x.grantId}/${s}`)),
            service: { name: step.stage, version: '1.4.0' },
            occurredAt: x.start + s * 37 * 60_000,
            source: { topic: `grants.${step.stage}.v1`, partition: x.g % PARTITIONS, offset: x.g },
            details: step.details ?? {},
            discriminator: String(s),
          },
          x.previous,
        );
        x.previous = built.event.event_hash;
        out.push({ key: built.key, event: built.event, partition: x.g % PARTITIONS });
        produced += 1;
      }
      yield out;
    }
  }
}

const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
const cpuMs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return Math.round((c.user + c.system) / 1000);
};
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** RSS samples at each tenth of the way, to show whether memory grows with the store. */
class RssTrack {
  readonly samples: { at: number; rssMb: number }[] = [];
  private next = 0;
  constructor(private readonly total: number) {}
  seen(n: number): void {
    while (n >= this.next && this.next <= this.total) {
      this.samples.push({ at: n, rssMb: rssMb() });
      this.next += this.total / 10;
    }
  }
}

function settings(): { readModel: ReadModelSection; pageSize: number } {
  const c = loadConsoleSettings(process.env).console;
  return { readModel: c.readModel, pageSize: c.pageSize };
}

/** Direct path: the projector's rows into ReadModelStore.apply, batch by batch with their positions. */
async function indexDirect(events: number, storePath: string): Promise<void> {
  const { readModel } = settings();
  const store = ReadModelStore.open(storePath);
  const next = new Array<number>(PARTITIONS).fill(0);
  const track = new RssTrack(events);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let pending: AuditRow[] = [];
  let indexed = 0;
  const flush = () => {
    if (pending.length === 0) return;
    indexed += store.apply({
      audit: pending,
      statuses: [],
      deadLetters: [],
      positions: next.map((n, partition) => ({
        topic: TOPICS.AUDIT,
        partition,
        nextOffset: String(n),
      })),
    });
    pending = [];
    track.seen(indexed);
  };
  for (const slice of generate(events)) {
    for (const e of slice) {
      const offset = next[e.partition] ?? 0;
      next[e.partition] = offset + 1;
      pending.push(auditRowOf({ partition: e.partition, offset: String(offset) }, e.key, e.event));
      if (pending.length >= readModel.maxBatchRecords) {
        flush();
        // Lets timers and GC run between transactions, as the projector's awaits do.
        await tick();
      }
    }
  }
  flush();
  const ms = performance.now() - started;
  const counts = store.counts();
  store.close();
  process.stdout.write(
    `${JSON.stringify({
      path: 'direct',
      events,
      indexed,
      ms: Math.round(ms),
      cpuMs: cpuMs(cpu),
      rate: Math.round(indexed / (ms / 1000)),
      rss: track.samples,
      peakRssMb: peakRssMb(),
      rssAfterMb: rssMb(),
      counts,
      storeMb: Math.round(statSync(storePath).size / 1024 / 1024),
    })}\n`,
  );
}

interface BenchTopics {
  audit: string;
  status: string;
  deadLetters: string;
}

function clientsFor(): { clients: PlatformClients; config: ReturnType<typeof testConfig> } {
  const config = testConfig();
  const logger = createLogger({ service: 'bench-read-model', level: 'warn' });
  return { clients: createPlatformClients(config, logger), config };
}

/** Produces `count` events of grants from `fromGrant` on as Avro, keyed as libs/audit keys them. */
async function produce(
  clients: PlatformClients,
  topic: string,
  count: number,
  fromGrant: number,
): Promise<void> {
  let batch: { key: string; value: Buffer }[] = [];
  const send = async () => {
    if (batch.length === 0) return;
    await clients.io.produce(topic, batch);
    batch = [];
  };
  for (const slice of generate(count, fromGrant)) {
    for (const e of slice) {
      batch.push({ key: e.key, value: await clients.serde.encode(topic, e.event) });
      if (batch.length >= 5000) await send();
    }
  }
  await send();
}

/** Creates the scenario's three topics and produces `events` events; prints the topics. */
async function produceTopics(events: number, scope: string): Promise<void> {
  const { clients } = clientsFor();
  await clients.admin.connect();
  try {
    const copies = await createScopedTopics(
      clients,
      [TOPICS.AUDIT, TOPICS.STATUS, TOPICS.DLQ],
      scope,
    );
    const topics: BenchTopics = {
      audit: copies.get(TOPICS.AUDIT)!,
      status: copies.get(TOPICS.STATUS)!,
      deadLetters: copies.get(TOPICS.DLQ)!,
    };
    const started = performance.now();
    await produce(clients, topics.audit, events, 0);
    const ms = performance.now() - started;
    process.stdout.write(
      `${JSON.stringify({ topics, produced: events, produceMs: Math.round(ms), produceRate: Math.round(events / (ms / 1000)) })}\n`,
    );
  } finally {
    await clients.close();
  }
}

function projectorFor(
  store: ReadModelStore,
  clients: PlatformClients,
  topics: BenchTopics,
): { projector: Projector; scanner: TopicScanner } {
  const scanner = new TopicScanner(clients.kafka);
  const { readModel } = settings();
  const projector = new Projector({
    store,
    scanner,
    serde: clients.serde,
    settings: { ...readModel, topics },
    logger: createLogger({ service: 'bench-read-model', level: 'warn' }),
  });
  return { projector, scanner };
}

/** Broker path: one projector pass over the topics into a fresh store. */
async function indexBroker(storePath: string, topics: BenchTopics, events: number): Promise<void> {
  const { clients } = clientsFor();
  const store = ReadModelStore.open(storePath);
  const { projector, scanner } = projectorFor(store, clients, topics);
  const track = new RssTrack(events);
  // Records stored so far, from the positions (cheap), not a COUNT over the table.
  const stored = () =>
    [...store.positions(topics.audit).values()].reduce((n, o) => n + Number(o), 0);
  const timer = setInterval(() => track.seen(stored()), 250);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const added = await projector.catchUp();
    const ms = performance.now() - started;
    clearInterval(timer);
    track.seen(events);
    const pass = projector.lastPass();
    process.stdout.write(
      `${JSON.stringify({
        path: 'broker',
        events,
        read: pass.read,
        indexed: added,
        lag: projector.lag().total,
        ms: Math.round(ms),
        cpuMs: cpuMs(cpu),
        rate: Math.round(pass.read / (ms / 1000)),
        rss: track.samples,
        peakRssMb: peakRssMb(),
        rssAfterMb: rssMb(),
        counts: store.counts(),
        storeMb: Math.round(statSync(storePath).size / 1024 / 1024),
      })}\n`,
    );
  } finally {
    clearInterval(timer);
    await scanner.close();
    store.close();
    await clients.close();
  }
}

/** A restart: a new process opens the store, passes once (nothing to read), then once more after `extra` new events. */
async function resume(
  storePath: string,
  topics: BenchTopics,
  events: number,
  extra: number,
): Promise<void> {
  const { clients } = clientsFor();
  const store = ReadModelStore.open(storePath);
  const { projector, scanner } = projectorFor(store, clients, topics);
  try {
    const before = store.counts().auditRecords;
    let started = performance.now();
    await projector.catchUp();
    const first = { ...projector.lastPass(), ms: Math.round(performance.now() - started) };
    await clients.admin.connect();
    // Grants past the first run's: their events are new records.
    await produce(clients, topics.audit, extra, events);
    started = performance.now();
    await projector.catchUp();
    const second = { ...projector.lastPass(), ms: Math.round(performance.now() - started) };
    process.stdout.write(
      `${JSON.stringify({
        storedBefore: before,
        afterRestart: first,
        produced: extra,
        afterMore: second,
        storedAfter: store.counts().auditRecords,
        lag: projector.lag().total,
      })}\n`,
    );
  } finally {
    await scanner.close();
    store.close();
    await clients.close();
  }
}

/** Queries of each kind run untimed first, so the figures are of compiled code and a warm cache. */
const WARM_UP = 20;

function percentiles(samples: number[]): { p50: number; p95: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p95: r(at(0.95)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? 0) };
}

/**
 * Wall time and CPU time of each call. On a shared machine the wall clock
 * also measures the queue for a core; the CPU time is what the query itself
 * costs.
 */
class Timings {
  private readonly wall: number[] = [];
  private readonly cpu: number[] = [];
  time<T>(work: () => T): T {
    const c = process.cpuUsage();
    const t = performance.now();
    const out = work();
    this.wall.push(performance.now() - t);
    const used = process.cpuUsage(c);
    this.cpu.push((used.user + used.system) / 1000);
    return out;
  }
  summary(): Record<string, number> {
    const w = percentiles(this.wall);
    const c = percentiles(this.cpu);
    return {
      p50: w.p50,
      p95: w.p95,
      p99: w.p99,
      max: w.max,
      cpuP50: c.p50,
      cpuP95: c.p95,
      cpuP99: c.p99,
    };
  }
}

/** Grant search and the grant page over a built store, in a fresh process. */
function queries(storePath: string, count: number): void {
  const { pageSize } = settings();
  const store = ReadModelStore.open(storePath);
  const grants = store.counts().grants;
  const r = random(20_260_601);
  const pick = () => Math.floor(r() * grants);
  const funders = FUNDERS.map(([f]) => f);
  const states = ['SUBMITTED', 'NOTIFIED', 'FORWARD', 'RETRY', 'REJECT', 'DEAD_LETTER'];
  const categories = ['API_RATE_LIMIT', 'COMPLIANCE_BLOCK', 'ATTACHMENT_INVALID'];
  const frame = {
    principal: { username: 'bench', role: 'auditor' as const, provider: 'local' },
    csrfToken: 'bench',
  };
  const searches: [string, () => GrantQuery][] = [
    ['grant id (exact)', () => ({ grantId: grantIdOf(pick()), limit: pageSize })],
    [
      'grant id prefix (2-7 digits)',
      () => {
        const id = grantIdOf(pick());
        const digits = 2 + Math.floor(r() * 6);
        return { grantPrefix: id.slice(0, id.length - 7 + digits), limit: pageSize };
      },
    ],
    [
      'funder + status',
      () => ({
        funder: funders[Math.floor(r() * funders.length)]!,
        status: states[Math.floor(r() * states.length)]!,
        limit: pageSize,
      }),
    ],
    [
      'error category',
      () => ({ category: categories[Math.floor(r() * categories.length)]!, limit: pageSize }),
    ],
    [
      'deadline range (7 days)',
      () => {
        const from = EPOCH + Math.floor(r() * YEAR_MS);
        return { deadlineFrom: from, deadlineTo: from + 7 * DAY_MS, limit: pageSize };
      },
    ],
    [
      'last activity range (1 day)',
      () => {
        const from = EPOCH + Math.floor(r() * YEAR_MS);
        return { from, to: from + DAY_MS, limit: pageSize };
      },
    ],
    [
      'funder + deadline range (30 days)',
      () => {
        const from = EPOCH + Math.floor(r() * YEAR_MS);
        return {
          funder: funders[Math.floor(r() * funders.length)]!,
          deadlineFrom: from,
          deadlineTo: from + 30 * DAY_MS,
          limit: pageSize,
        };
      },
    ],
  ];
  const rows: Record<string, unknown>[] = [];
  for (const [name, make] of searches) {
    for (let i = 0; i < WARM_UP; i += 1) store.searchGrants(make());
    const m = new Timings();
    let hits = 0;
    for (let i = 0; i < count; i += 1) {
      const q = make();
      hits += m.time(() => store.searchGrants(q)).length;
    }
    rows.push({ query: name, n: count, meanHits: Math.round(hits / count), ...m.summary() });
  }
  const grantPageOf = (id: string) => {
    const records = store.grant(id);
    const view = grantView(id, records, EPOCH + YEAR_MS);
    return { records, view, html: grantPage(frame, view, true) };
  };
  for (let i = 0; i < WARM_UP; i += 1) grantPageOf(grantIdOf(pick()));
  const m = new Timings();
  let pageEvents = 0;
  let verified = 0;
  for (let i = 0; i < count; i += 1) {
    const id = grantIdOf(pick());
    const { records, view, html } = m.time(() => grantPageOf(id));
    pageEvents += records.audit.length;
    if (view.verdict === 'VERIFIED' && html.length > 0) verified += 1;
  }
  rows.push({
    query: 'grant page (records + chain check + HTML)',
    n: count,
    meanHits: Math.round(pageEvents / count),
    verified,
    ...m.summary(),
  });
  const stored = store.counts().auditRecords;
  store.close();
  process.stdout.write(
    `${JSON.stringify({ events: stored, grants, rows, peakRssMb: peakRssMb(), rssAfterMb: rssMb() })}\n`,
  );
}

function child(args: string[]): Record<string, unknown> {
  const script = process.argv[1] ?? '';
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}`);
  const line = run.stdout.trim().split('\n').pop() ?? '{}';
  const out = JSON.parse(line) as Record<string, unknown>;
  process.stderr.write(`${args[0]}: ${line}\n`);
  return out;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const arg = (i: number) => process.argv[3 + i] ?? '';
  if (mode === '--index-direct') return indexDirect(Number(arg(0)), arg(1));
  if (mode === '--produce') return produceTopics(Number(arg(0)), arg(1));
  if (mode === '--index-broker')
    return indexBroker(arg(0), JSON.parse(arg(1)) as BenchTopics, Number(arg(2)));
  if (mode === '--resume')
    return resume(arg(0), JSON.parse(arg(1)) as BenchTopics, Number(arg(2)), Number(arg(3)));
  if (mode === '--queries') return queries(arg(0), Number(arg(1)));

  const events = Number(option('events', '1000000'));
  const count = option('queries', '1000');
  const paths = option('paths', 'direct,broker').split(',');
  const extra = option('resume-events', '1000');
  const dir = mkdtempSync(join(option('dir', process.env['TMPDIR'] ?? '/tmp'), 'read-model-'));
  const keep = process.argv.includes('--keep');
  const report: Record<string, unknown> = { events };
  let topics: BenchTopics | null = null;
  try {
    if (paths.includes('direct')) {
      const store = join(dir, 'direct.sqlite');
      report['direct'] = child(['--index-direct', String(events), store]);
      report['directQueries'] = child(['--queries', store, count]);
    }
    if (paths.includes('broker')) {
      const store = join(dir, 'broker.sqlite');
      const produced = child(['--produce', String(events), `bench-rm-${Date.now().toString(36)}`]);
      topics = produced['topics'] as BenchTopics;
      report['produce'] = produced;
      report['broker'] = child(['--index-broker', store, JSON.stringify(topics), String(events)]);
      report['brokerQueries'] = child(['--queries', store, count]);
      report['resume'] = child(['--resume', store, JSON.stringify(topics), String(events), extra]);
    }
  } finally {
    if (topics) {
      const { clients } = clientsFor();
      await clients.admin.connect();
      await deleteScopedTopics(
        clients,
        new Map([
          [TOPICS.AUDIT, topics.audit],
          [TOPICS.STATUS, topics.status],
          [TOPICS.DLQ, topics.deadLetters],
        ]),
      );
      await clients.close();
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`stores kept in ${dir}\n`);
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
