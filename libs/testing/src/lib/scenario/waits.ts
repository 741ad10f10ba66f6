import { TopicScanner, type PlatformClients, type TopicPositions } from '@grantstream/kafka';
import { testConfig } from '../environment';
import type { ServiceGroup } from './service-group';

/**
 * Resolves once a service group's consumer group is Stable with one member per
 * process and every partition of `topics` assigned to one of them: a backlog
 * produced now is split between all replicas from its first record, instead
 * of landing on whichever replica joined first and moving at the rebalance.
 * Gives up after the stack's ready timeout (stack.readyTimeoutMs), or as soon
 * as a process of the group exits.
 */
export async function waitForGroupAssigned(
  clients: PlatformClients,
  group: ServiceGroup,
  topics: readonly string[],
): Promise<void> {
  await waitForGroupJoined(clients, group.group, topics, group.processes.length, {
    timeoutMs: testConfig().stack.readyTimeoutMs,
    abort: () => {
      const exited = group.processes.find((p) => p.child.exitCode !== null);
      return exited ? `a process of ${group.group} exited (log ${exited.logFile})` : null;
    },
  });
}

/** The value of a metric sample with these labels (0 when absent), from a Prometheus text page. */
export async function scrapeMetric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(url)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * How often a wait re-checks its condition. Not a bound: how long a wait may
 * last always comes from the configuration (see {@link waitUntil}).
 */
export const CONDITION_POLL_MS = 200;

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Longest the condition may take; take it from the configuration (e.g. stack.readyTimeoutMs). */
  timeoutMs: number;
  /** Returns why waiting is pointless (a process exited), or null to keep waiting. */
  abort?: () => string | null;
}

/**
 * Re-checks `probe` until it returns a value other than undefined, null or
 * false, and resolves with that value: a scenario waits for what it needs
 * (a group joined, a metric reached, offsets consumed), never for a fixed
 * time that is too long on an idle machine and too short on a busy one.
 * Throws after `timeoutMs` naming `what`, or at once when `abort` says so.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    const aborted = options.abort?.() ?? null;
    if (aborted !== null) throw new Error(`${what}: ${aborted}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${options.timeoutMs} ms`);
    await sleep(CONDITION_POLL_MS);
  }
}

/**
 * Resolves once `name` (with `labels`) on the Prometheus page at `url`
 * satisfies `accept`, with its value; a page that does not answer yet counts
 * as not yet.
 */
export function waitForMetric(
  url: string,
  name: string,
  labels: Record<string, string>,
  accept: (value: number) => boolean,
  options: WaitOptions,
): Promise<number> {
  return waitUntil(
    `${name}${JSON.stringify(labels)} at ${url}`,
    async () => {
      const value = await scrapeMetric(url, name, labels).catch(() => null);
      return value !== null && accept(value) ? { value } : null;
    },
    options,
  ).then((r) => r.value);
}

/** Resolves once `url` answers 200 (a service's /health/ready: started, joined, connected). */
export async function waitForReady(url: string, options: WaitOptions): Promise<void> {
  await waitUntil(
    `${url} ready`,
    async () => {
      const response = await fetch(url).catch(() => null);
      await response?.body?.cancel();
      return response?.status === 200;
    },
    options,
  );
}

/**
 * Resolves once consumer group `groupId` is Stable with `members` members
 * holding every partition of `topics` between them: from then on a record
 * produced to any of them is read by the group.
 */
export async function waitForGroupJoined(
  clients: PlatformClients,
  groupId: string,
  topics: readonly string[],
  members: number,
  options: WaitOptions,
): Promise<void> {
  const described = await clients.admin.describeTopics(topics, []);
  const wanted = topics.flatMap((topic) =>
    Array.from({ length: described.get(topic)?.partitions ?? 0 }, (_, p) => `${topic}:${p}`),
  );
  await waitUntil(
    `group ${groupId} holding ${wanted.length} partitions with ${members} member(s)`,
    async () => {
      const g = await clients.admin.describeGroup(groupId);
      const assigned = new Set(
        g.members.flatMap((m) =>
          Object.entries(m.assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`)),
        ),
      );
      return (
        g.state === 'Stable' &&
        g.members.length === members &&
        wanted.every((tp) => assigned.has(tp))
      );
    },
    options,
  );
}

/** Each `topic:partition`'s grantstream_consumer_lag on a stage's metric pages (summed over replicas). */
async function reportedLags(metricsUrls: readonly string[]): Promise<Map<string, number>> {
  const lags = new Map<string, number>();
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('grantstream_consumer_lag{')) continue;
      const topic = /topic="([^"]+)"/.exec(line)?.[1];
      const partition = /partition="([^"]+)"/.exec(line)?.[1];
      if (topic === undefined || partition === undefined) continue;
      const key = `${topic}:${partition}`;
      lags.set(key, (lags.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
  }
  return lags;
}

/**
 * Resolves once a stage (its replicas' metric pages) has consumed every record
 * written to `topics` since `from`: on each partition its group's committed
 * offset is past the partition's last record, so all it reports as lag is the
 * transaction markers after it. From then on anything the stage will ever do
 * about those records is done: what a scenario reads now is final.
 */
export async function waitForCaughtUp(
  clients: PlatformClients,
  metricsUrls: readonly string[],
  topics: readonly string[],
  from: TopicPositions,
  options: WaitOptions,
): Promise<void> {
  await waitUntil(
    `${metricsUrls.join(', ')} consuming ${topics.join(', ')} to their ends`,
    async () => {
      const ends = await clients.io.endOffsets(topics);
      const lastRecord = new Map<string, bigint>();
      const scanner = new TopicScanner(clients.kafka);
      try {
        for (const topic of topics) {
          for await (const m of scanner.scan(topic, {
            ...testConfig().audit,
            from: from.get(topic),
          })) {
            const key = `${m.topic}:${m.partition}`;
            const offset = BigInt(m.offset);
            if (offset > (lastRecord.get(key) ?? -1n)) lastRecord.set(key, offset);
          }
        }
      } finally {
        await scanner.close();
      }
      const lags = await reportedLags(metricsUrls);
      for (const [topic, partitions] of ends) {
        for (const [partition, high] of partitions) {
          const key = `${topic}:${partition}`;
          const last = lastRecord.get(key);
          // Nothing written there since `from`: nothing of the scenario's to consume.
          if (last === undefined) continue;
          const markers = BigInt(high) - (last + 1n);
          const lag = lags.get(key);
          if (lag === undefined || BigInt(lag) > markers) return false;
        }
      }
      return true;
    },
    options,
  );
}
