/**
 * Sustained grants/s and ingest→routed latency through the three stages
 * (ingest + validation, normalization, compliance routing) on the local stack,
 * each stage its own process with its production configuration, attachments
 * small real files streamed and hashed by ingest.
 *
 *   node --import tsx bench/pipeline-throughput.ts [--grants N] [--rounds R]
 *        [--rate GRANTS_PER_S] [--seconds S]
 *
 * Throughput: the stages are running and idle; N applications are produced to
 * a fresh 6-partition grants.ingest.* topic as fast as the producer goes; the
 * clock runs from the first produce to the commit of the last routed record
 * (broker timestamps of grants.routed.v1). Median of R rounds.
 * Latency: applications produced at a steady rate (default: half the median
 * throughput) for S seconds; per application, the routed record's timestamp
 * minus the moment its batch was handed to the producer; p50/p99.
 * See docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { TOPICS } from '@grantstream/contracts';
import { startStages, stopStages } from '@grantstream/harness';
import {
  testClients,
  testConfig,
  uniqueName,
  anNsfSubmission,
  createIngestTopic,
  produceSubmissions,
  scenarioDir,
  waitForLog,
  writePdf,
} from '@grantstream/testing';

/** CPU milliseconds (user + system) a process has used so far. */
const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** The local broker's pid, found by the stack's command-line marker. */
const brokerPid = (): number | null => {
  try {
    const out = execFileSync('pgrep', ['-f', 'grantstream.stack=.*#kafka'], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]) || null;
  } catch {
    return null;
  }
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

async function main(): Promise<void> {
  const o = new Command()
    .option('--grants <n>', 'applications per throughput round', Number, 10_000)
    .option('--rounds <n>', 'throughput rounds', Number, 3)
    .option(
      '--rate <n>',
      'latency phase rate (grants/s); default half the median throughput',
      Number,
    )
    .option('--seconds <n>', 'latency phase duration', Number, 20)
    .option('--cpu-prof <dir>', 'write a CPU profile of each stage process into this directory')
    .parse(process.argv)
    .opts<{ grants: number; rounds: number; rate?: number; seconds: number; cpuProf?: string }>();
  const clients = await testClients();
  const dir = scenarioDir('bench-pipeline');
  const pdfs = Array.from({ length: 50 }, (_, i) =>
    writePdf(dir, `narrative-${i}.pdf`, `project narrative ${i} `.repeat(40)),
  );
  // Topics exist before the stages start: a topic created later is only
  // discovered at the next pattern refresh, which would be timed too.
  const roundTopics: string[] = [];
  for (let round = 1; round <= o.rounds; round++)
    roundTopics.push(await createIngestTopic(clients, `bench-${round}`, 6));
  const latencyTopic = await createIngestTopic(clients, 'bench-latency', 6);
  const stages = startStages(['ingest', 'normalization', 'routing'], {
    logDir: dir,
    ...(o.cpuProf ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] } : {}),
    env: {
      GRANTSTREAM__INGEST__STORAGE__FILEROOTS: JSON.stringify([dir]),
    },
  });
  try {
    for (const s of stages) await waitForLog(s, /stage service consuming/, 120_000);
    // Joined; let the first assignments settle before the clock starts.
    await new Promise((r) => setTimeout(r, 5000));
    const tag = () =>
      uniqueName('B')
        .replace(/[^A-Z0-9]/gi, '')
        .slice(-8)
        .toUpperCase();

    const rates: number[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const t = tag();
      const topic = roundTopics[round - 1]!;
      const subs = Array.from({ length: o.grants }, (_, i) =>
        anNsfSubmission(`NSF-2026-${String(i + 1).padStart(5, '0')}-${t}`, [
          pdfs[i % pdfs.length]!,
        ]),
      );
      const from = await clients.io.endOffsets([TOPICS.ROUTED]);
      const ids = new Set(subs.map((s) => s.grant_id));
      let last = 0;
      const seen = new Set<string>();
      const pids: [string, number | null][] = [
        ...stages.map((st) => [st.name, st.child.pid ?? null] as [string, number | null]),
        ['broker', brokerPid()],
        ['bench', process.pid],
      ];
      const cpu0 = pids.map(([, pid]) => (pid ? cpuMs(pid) : 0));
      const started = Date.now();
      const follow = clients.io.follow(
        from,
        (m) => {
          const id = m.key?.toString() ?? '';
          if (!ids.has(id) || seen.has(id)) return false;
          seen.add(id);
          last = Math.max(last, Number(m.timestamp));
          return seen.size >= ids.size;
        },
        600_000,
      );
      for (let i = 0; i < subs.length; i += 1000)
        await produceSubmissions(clients, topic, subs.slice(i, i + 1000));
      await follow;
      const rate = (seen.size / (last - started)) * 1000;
      rates.push(rate);
      const cpu = pids.map(
        ([name, pid], i) => `${name} ${pid ? cpuMs(pid) - (cpu0[i] ?? 0) : '?'}`,
      );
      console.log(
        `round ${round}: ${seen.size}/${o.grants} routed in ${last - started} ms = ${rate.toFixed(0)} grants/s; CPU ms: ${cpu.join(', ')}`,
      );
    }
    const throughput = median(rates);
    console.log(`THROUGHPUT median ${throughput.toFixed(0)} grants/s over ${o.rounds} rounds`);

    const rate = o.rate ?? Math.max(1, Math.floor(throughput / 2));
    const t = tag();
    const topic = latencyTopic;
    const total = rate * o.seconds;
    const producedAt = new Map<string, number>();
    const latencies: number[] = [];
    const from = await clients.io.endOffsets([TOPICS.ROUTED]);
    const follow = clients.io.follow(
      from,
      (m) => {
        const at = producedAt.get(m.key?.toString() ?? '');
        if (at === undefined) return false;
        latencies.push(Number(m.timestamp) - at);
        producedAt.delete(m.key?.toString() ?? '');
        return latencies.length >= total;
      },
      o.seconds * 1000 + 120_000,
    );
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    const start = Date.now();
    for (let sent = 0, n = 0; sent < total; n++) {
      const batch = Array.from({ length: Math.min(perTick, total - sent) }, (_, i) =>
        anNsfSubmission(`NSF-2026-${String(sent + i + 1).padStart(5, '0')}-${t}`, [
          pdfs[(sent + i) % pdfs.length]!,
        ]),
      );
      const at = Date.now();
      for (const s of batch) producedAt.set(s.grant_id, at);
      await produceSubmissions(clients, topic, batch);
      sent += batch.length;
      const next = start + (n + 1) * tickMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await follow;
    latencies.sort((a, b) => a - b);
    console.log(
      `LATENCY at ${rate} grants/s for ${o.seconds} s: ${latencies.length}/${total} routed, p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${latencies[latencies.length - 1] ?? 0} ms`,
    );
  } finally {
    await stopStages(stages, testConfig().runner.shutdownGraceMs);
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
