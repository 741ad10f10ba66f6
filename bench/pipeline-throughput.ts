/**
 * Sustained grants/s and end-to-end latency through the three stages (ingest
 * + validation, normalization, compliance routing) on the local stack, each
 * stage its own process with its production configuration, attachments small
 * real files streamed and hashed by ingest.
 *
 *   node --import tsx bench/pipeline-throughput.ts [--grants N] [--rounds R]
 *        [--warmup N] [--rate GRANTS_PER_S] [--seconds S] [--latency-runs L]
 *        [--cpu-prof DIR]
 *
 * Throughput: the stages are running and idle (and warmed by --warmup
 * applications, not timed); N applications are produced to a fresh
 * 6-partition grants.ingest.* topic as fast as the producer goes; the clock
 * runs from the first produce to the moment the last routed record is read
 * by a read_committed reader. Median, min and max of R rounds (target:
 * median >= 1,500 grants/s).
 * Latency: L runs, each on a fresh topic, applications offered at a steady
 * rate (default 500/s) for S seconds; per application, the moment a
 * read_committed reader sees its routed record minus the moment its batch was
 * handed to the producer; p50/p99/max per run (target: p99 < 500 ms in every
 * run). The routed record's own timestamp (when routing sent it, before its
 * commit) is reported beside it.
 * Each round and run prints the load average. See docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Command } from 'commander';
import { TOPICS } from '@grantstream/contracts';
import { startStages, stopStages } from '@grantstream/harness';
import type { PlatformClients } from '@grantstream/kafka';
import {
  testClients,
  testConfig,
  uniqueName,
  anNsfSubmission,
  createNamedIngestTopic,
  produceSubmissions,
  scenarioIngest,
  scenarioDir,
  waitForLog,
  writePdf,
} from '@grantstream/testing';

/** CPU milliseconds (user + system) a process has used so far; NaN once it is gone. */
const cpuMs = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
};

/**
 * The local stack's broker pid, found by its command-line marker with the
 * stack's own state dir: other clusters on the machine carry the same marker
 * under other state dirs.
 */
const brokerPid = (stateDir: string): number | null => {
  try {
    const out = execFileSync('pgrep', ['-f', `grantstream.stack=${stateDir}#kafka( |$)`], {
      encoding: 'utf8',
    });
    return Number(out.trim().split('\n')[0]) || null;
  } catch {
    return null;
  }
};

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]) => {
  const s = sorted(xs);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (s: readonly number[], p: number) =>
  s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * A read_committed reader of grants.routed.v1 that is positioned before the
 * first produce: the clock of both phases. Calls `seen(key, readAt,
 * routedAt)` for every record; `close` stops it.
 */
async function routedReader(
  clients: PlatformClients,
  seen: (key: string, readAt: number, routedAt: number) => void,
): Promise<{ group: string; close: () => Promise<void> }> {
  const group = uniqueName('bench-pipeline-reader');
  const consumer = clients.kafka.consumer({
    groupId: group,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  // The first fetch after the join has resolved the start offsets (latest):
  // anything routed after it is read.
  let fetched: () => void = () => undefined;
  const firstFetch = new Promise<void>((r) => (fetched = r));
  consumer.on(consumer.events.FETCH, () => fetched());
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.ROUTED], fromBeginning: false });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const readAt = Date.now();
      for (const m of batch.messages) seen(m.key?.toString() ?? '', readAt, Number(m.timestamp));
    },
  });
  await joined;
  await firstFetch;
  return { group, close: () => consumer.disconnect() };
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--grants <n>', 'applications per throughput round', Number, 5_000)
    .option('--rounds <n>', 'throughput rounds', Number, 5)
    .option(
      '--warmup <n>',
      'applications through the pipeline before the first round (untimed)',
      Number,
      1_000,
    )
    .option('--rate <n>', 'offered rate of the latency runs (grants/s)', Number, 500)
    .option('--seconds <n>', 'duration of each latency run', Number, 20)
    .option('--latency-runs <n>', 'latency runs', Number, 5)
    .option('--drain <s>', 'seconds a latency run waits for its last applications', Number, 120)
    .option('--cpu-prof <dir>', 'write a CPU profile of each stage process into this directory')
    .parse(process.argv)
    .opts<{
      grants: number;
      rounds: number;
      warmup: number;
      rate: number;
      seconds: number;
      latencyRuns: number;
      drain: number;
      cpuProf?: string;
    }>();
  const clients = await testClients();
  const dir = scenarioDir('bench-pipeline');
  const pdfs = Array.from({ length: 50 }, (_, i) =>
    writePdf(dir, `narrative-${i}.pdf`, `project narrative ${i} `.repeat(40)),
  );
  // Its own consumer groups, transactional ids and metrics ports: the shared
  // stack may run another pipeline (the main job, a scenario) whose groups
  // these stages must not join. Ingest reads only this run's topics;
  // normalization and routing start at the current ends of their inputs.
  const ingest = scenarioIngest('bench');
  const groupEnv: Record<string, string> = { ...ingest.env };
  const groups = [ingest.group];
  for (const [section, input] of [
    ['NORMALIZATION', TOPICS.VALIDATED],
    ['ROUTING', TOPICS.NORMALIZED],
  ] as const) {
    const group = uniqueName(`grantstream.${section.toLowerCase()}.bench`);
    await clients.admin.setGroupOffsets(group, await clients.io.endOffsets([input]));
    groups.push(group);
    groupEnv[`GRANTSTREAM__${section}__RUNNER__GROUP_ID`] = group;
    groupEnv[`GRANTSTREAM__${section}__RUNNER__TRANSACTIONAL_ID_PREFIX`] = group;
  }
  for (const section of ['INGEST', 'NORMALIZATION', 'ROUTING'])
    groupEnv[`GRANTSTREAM__${section}__METRICS__PORT`] = '0';
  // Topics exist before the stages start: a topic created later is only
  // discovered at the next pattern refresh, which would be timed too.
  const topicOf = (suffix: string) => createNamedIngestTopic(clients, ingest.topic(suffix), 6);
  const warmupTopic = await topicOf('warmup');
  const roundTopics: string[] = [];
  for (let round = 1; round <= o.rounds; round++) roundTopics.push(await topicOf(`round-${round}`));
  const latencyTopics: string[] = [];
  for (let run = 1; run <= o.latencyRuns; run++)
    latencyTopics.push(await topicOf(`latency-${run}`));
  console.log(
    `pipeline-throughput ${new Date().toISOString()}: ${o.rounds} rounds of ${o.grants}, warm-up ${o.warmup}, ` +
      `${o.latencyRuns} latency runs of ${o.seconds} s at ${o.rate}/s; load ${load()}`,
  );
  const stages = startStages(['ingest', 'normalization', 'routing'], {
    logDir: dir,
    ...(o.cpuProf ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] } : {}),
    env: {
      ...groupEnv,
      GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
    },
  });
  // Per grant id: when its batch went to the producer; and what the reader saw.
  const producedAt = new Map<string, number>();
  let onRouted: (key: string, readAt: number, routedAt: number) => void = () => undefined;
  const reader = await routedReader(clients, (k, r, t) => onRouted(k, r, t));
  try {
    for (const s of stages) await waitForLog(s, /stage service consuming/, 120_000);
    const tag = () =>
      uniqueName('B')
        .replace(/[^A-Z0-9]/gi, '')
        .slice(-8)
        .toUpperCase();
    const submissions = (n: number, t: string, from = 0): ReturnType<typeof anNsfSubmission>[] =>
      Array.from({ length: n }, (_, i) =>
        anNsfSubmission(`NSF-2026-${String(from + i + 1).padStart(5, '0')}-${t}`, [
          pdfs[(from + i) % pdfs.length]!,
        ]),
      );
    /**
     * Resolves when every id was read; after `timeoutMs` rejects, or with
     * `partial` resolves with what was read by then.
     */
    const allRouted = (
      ids: Set<string>,
      timeoutMs: number,
      each?: (k: string, r: number, t: number) => void,
      partial = false,
    ) => {
      const seen = new Set<string>();
      let last = 0;
      return new Promise<{ last: number; seen: number }>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (partial) resolve({ last, seen: seen.size });
          else reject(new Error(`${seen.size}/${ids.size} routed after ${timeoutMs} ms`));
        }, timeoutMs);
        onRouted = (key, readAt, routedAt) => {
          if (!ids.has(key) || seen.has(key)) return;
          seen.add(key);
          each?.(key, readAt, routedAt);
          last = Math.max(last, readAt);
          if (seen.size >= ids.size) {
            clearTimeout(timer);
            resolve({ last, seen: seen.size });
          }
        };
      });
    };

    if (o.warmup > 0) {
      // JIT and connections warm, partitions assigned: not timed.
      const subs = submissions(o.warmup, tag());
      const done = allRouted(new Set(subs.map((s) => s.grant_id)), 600_000);
      for (let i = 0; i < subs.length; i += 1000)
        await produceSubmissions(clients, warmupTopic, subs.slice(i, i + 1000));
      await done;
      console.log(`warm-up: ${o.warmup} routed; load ${load()}`);
    }

    const rates: number[] = [];
    const ceilings: number[] = [];
    const cores = availableParallelism();
    for (let round = 1; round <= o.rounds; round++) {
      const subs = submissions(o.grants, tag());
      const topic = roundTopics[round - 1]!;
      const pids: [string, number | null][] = [
        ...stages.map((st) => [st.name, st.child.pid ?? null] as [string, number | null]),
        ['broker', brokerPid(testConfig().stack.stateDir)],
        ['bench', process.pid],
      ];
      const cpu0 = pids.map(([, pid]) => (pid ? cpuMs(pid) : 0));
      const done = allRouted(new Set(subs.map((s) => s.grant_id)), 600_000);
      const started = Date.now();
      // Monotonic µs, the clock of V8 .cpuprofile timestamps in every process:
      // bench/cpuprofile-summary.ts --window on a stage's --cpu-prof profile.
      const windowFrom = process.hrtime.bigint() / 1000n;
      for (let i = 0; i < subs.length; i += 1000)
        await produceSubmissions(clients, topic, subs.slice(i, i + 1000));
      const { last, seen } = await done;
      const windowTo = process.hrtime.bigint() / 1000n;
      const rate = (seen / (last - started)) * 1000;
      rates.push(rate);
      const used = pids.map(([, pid], i) => (pid ? cpuMs(pid) - (cpu0[i] ?? 0) : 0));
      const cpu = pids.map(([name], i) => `${name} ${used[i]}`);
      // The pipeline's own processes and the broker, per application: what
      // the rate would be on two cores of its own (the figure other work on
      // shared cores changes least).
      const perGrantMs = used.reduce((a, b) => a + b, 0) / seen;
      ceilings.push((cores / perGrantMs) * 1000);
      console.log(
        `round ${round}: ${seen}/${o.grants} routed in ${last - started} ms = ${n0(rate)} grants/s; load ${load()}; ` +
          `CPU ms: ${cpu.join(', ')}; ${perGrantMs.toFixed(2)} CPU ms per grant = ${n0(ceilings[ceilings.length - 1]!)} grants/s on ${cores} cores alone; profile window ${windowFrom},${windowTo}`,
      );
    }
    const throughput = median(rates);
    console.log(
      `THROUGHPUT median ${n0(throughput)} min ${n0(rates.length ? Math.min(...rates) : 0)} max ${n0(rates.length ? Math.max(...rates) : 0)} grants/s over ${o.rounds} rounds ` +
        `(target median >= 1,500: ${throughput >= 1500 ? 'MET' : 'NOT MET'}); CPU-bound rate on ${cores} cores alone median ${n0(median(ceilings))}; load ${load()}`,
    );

    const p99s: number[] = [];
    for (let run = 1; run <= o.latencyRuns; run++) {
      const t = tag();
      const topic = latencyTopics[run - 1]!;
      const total = o.rate * o.seconds;
      const latencies: number[] = [];
      const routedLatencies: number[] = [];
      const all = submissions(total, t);
      const done = allRouted(
        new Set(all.map((s) => s.grant_id)),
        (o.seconds + o.drain) * 1000,
        (key, readAt, routedAt) => {
          const at = producedAt.get(key);
          if (at === undefined) return;
          latencies.push(readAt - at);
          routedLatencies.push(routedAt - at);
          producedAt.delete(key);
        },
        true,
      );
      const tickMs = 50;
      const perTick = Math.max(1, Math.round((o.rate * tickMs) / 1000));
      const start = Date.now();
      let behind = 0;
      for (let sent = 0, n = 0; sent < total; n++) {
        const batch = all.slice(sent, sent + perTick);
        const at = Date.now();
        behind = Math.max(behind, at - (start + n * tickMs));
        for (const s of batch) producedAt.set(s.grant_id, at);
        await produceSubmissions(clients, topic, batch);
        sent += batch.length;
        const next = start + (n + 1) * tickMs;
        await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      }
      const offered = (total / (Date.now() - start)) * 1000;
      await done;
      // An application not read within the drain counts as infinitely late.
      const unread = total - latencies.length;
      const s = sorted([...latencies, ...Array<number>(unread).fill(Infinity)]);
      const r = sorted(routedLatencies);
      p99s.push(pct(s, 99));
      for (const s of all) producedAt.delete(s.grant_id);
      console.log(
        `LATENCY run ${run}: offered ${n0(offered)}/s (target ${o.rate}/s, producer at most ${behind} ms behind its schedule) for ${o.seconds} s: ` +
          `${latencies.length}/${total} read within ${o.seconds + o.drain} s; end to end (read_committed) p50 ${pct(s, 50)} ms, p99 ${pct(s, 99)} ms, max ${s[s.length - 1] ?? 0} ms; ` +
          `routed timestamp p50 ${pct(r, 50)} p99 ${pct(r, 99)} ms; load ${load()}`,
      );
    }
    const under = p99s.filter((x) => x < 500).length;
    console.log(
      `LATENCY p99 per run: ${p99s.join(', ')} ms; ${under} of ${p99s.length} runs under 500 ms ` +
        `(target every run: ${under === p99s.length ? 'MET' : 'NOT MET'}); load ${load()}`,
    );
  } finally {
    await reader.close();
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
    // Leftover topics cost the broker on every metadata request and pattern
    // refresh of every later run: delete this run's topics and groups.
    const admin = clients.kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [warmupTopic, ...roundTopics, ...latencyTopics] })
      .catch((err: unknown) => console.log(`bench topics not deleted: ${String(err)}`));
    await admin.deleteGroups([...groups, reader.group]).catch(() => undefined);
    await admin.disconnect();
    await clients.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
