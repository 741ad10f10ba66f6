import type { PlatformClients } from '@grantstream/kafka';
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
  const described = await clients.admin.describeTopics(topics, []);
  const wanted = topics.flatMap((topic) =>
    Array.from({ length: described.get(topic)?.partitions ?? 0 }, (_, p) => `${topic}:${p}`),
  );
  const deadline = Date.now() + testConfig().stack.readyTimeoutMs;
  let seen = '';
  for (;;) {
    const exited = group.processes.find((p) => p.child.exitCode !== null);
    if (exited) throw new Error(`a process of ${group.group} exited (log ${exited.logFile})`);
    const g = await clients.admin.describeGroup(group.group);
    const assigned = new Set(
      g.members.flatMap((m) =>
        Object.entries(m.assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`)),
      ),
    );
    if (
      g.state === 'Stable' &&
      g.members.length === group.processes.length &&
      wanted.every((tp) => assigned.has(tp))
    )
      return;
    seen = `${g.state}, ${g.members.length} of ${group.processes.length} members, ${wanted.filter((tp) => assigned.has(tp)).length} of ${wanted.length} partitions assigned`;
    if (Date.now() > deadline) throw new Error(`group ${group.group} never settled: ${seen}`);
    await sleep(200);
  }
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
