import type { AuditEventV1 } from '@grantstream/contracts';
import { AUDIT_GENESIS_HASH } from './hashing';

/** The little of an event that chain layout needs (the verifier keeps only this per event). */
export interface ChainLink {
  /** Unique per node; the last tie-breaker, so layouts never depend on input order. */
  readonly id: string;
  /** Hashes a successor may point to (more than one when conflicting versions of a key were seen). */
  readonly hashes: readonly string[];
  readonly prev: string;
  readonly occurredAt: number;
  /**
   * True for an annotation: an event that records something done about the
   * event it points to (a notification delivered), in parallel with the
   * trail's progress. It must point to an event of the grant, but it neither
   * continues the trail nor forks it.
   */
  readonly annotation?: boolean;
}

/** A set of events that claim the same predecessor, the one judged genuine first. */
export interface ChainFork<N> {
  readonly prev: string;
  readonly main: N;
  readonly others: readonly N[];
}

/** How one grant's events hang together. */
export interface ChainLayout<N> {
  /** Chain order: breadth-first from genesis, then each orphaned segment; see {@link layoutChain}. */
  readonly ordered: readonly N[];
  /** Position of each node in {@link ordered}. */
  readonly position: ReadonlyMap<N, number>;
  /** Events chained directly to genesis, main first. */
  readonly genesisRoots: readonly N[];
  /** Events whose predecessor is neither genesis nor any event of the grant. */
  readonly orphans: readonly N[];
  readonly forks: readonly ChainFork<N>[];
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lays out one grant's events by following hashes, never by arrival order: the
 * audit topic has several partitions and events of one grant are spread over
 * them, so log order says nothing about chain order.
 *
 * Order is breadth-first from genesis, so an event's position is its distance
 * from the start of the trail; at a fork the branch with the longest
 * continuation comes first (the genuine trail keeps growing, a forged insertion
 * usually dangles), then the earlier occurred_at, then the id. Orphaned
 * segments (after a gap) follow, each from its first event by occurred_at, and
 * last any events reachable from neither (only possible with forged hashes that
 * form a cycle).
 */
export function layoutChain<N extends ChainLink>(nodes: readonly N[]): ChainLayout<N> {
  const byHash = new Map<string, N>();
  for (const node of nodes) {
    for (const hash of node.hashes) if (!byHash.has(hash)) byHash.set(hash, node);
  }
  const children = new Map<N, N[]>();
  const genesisRoots: N[] = [];
  const orphans: N[] = [];
  const annotations: N[] = [];
  for (const node of nodes) {
    if (node.prev === AUDIT_GENESIS_HASH && node.annotation !== true) {
      genesisRoots.push(node);
      continue;
    }
    const parent = byHash.get(node.prev);
    // A node pointing at itself links to nothing that came before it.
    if (parent === undefined || parent === node) {
      orphans.push(node);
      continue;
    }
    if (node.annotation === true) {
      annotations.push(node);
      continue;
    }
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [node]);
    else siblings.push(node);
  }

  const height = heights(nodes, children);
  const mainFirst = (a: N, b: N): number =>
    (height.get(b) ?? 0) - (height.get(a) ?? 0) ||
    a.occurredAt - b.occurredAt ||
    compareIds(a.id, b.id);
  const earliestFirst = (a: N, b: N): number =>
    a.occurredAt - b.occurredAt || compareIds(a.id, b.id);

  genesisRoots.sort(mainFirst);
  orphans.sort(earliestFirst);
  const forks: ChainFork<N>[] = [];
  const addFork = (prev: string, group: N[]): void => {
    const [main, ...others] = group;
    if (main !== undefined && others.length > 0) forks.push({ prev, main, others });
  };
  addFork(AUDIT_GENESIS_HASH, genesisRoots);
  for (const [parent, group] of children) {
    group.sort(mainFirst);
    addFork(parent.hashes[0] ?? '', group);
  }

  const ordered: N[] = [];
  const visited = new Set<N>();
  const walk = (starts: readonly N[]): void => {
    const queue = starts.filter((node) => !visited.has(node));
    for (const node of queue) visited.add(node);
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i] as N;
      ordered.push(node);
      for (const child of children.get(node) ?? []) {
        if (!visited.has(child)) {
          visited.add(child);
          queue.push(child);
        }
      }
    }
  };
  walk(genesisRoots);
  // Annotations sit after the trail they annotate, earliest first.
  for (const node of annotations.sort(earliestFirst)) {
    visited.add(node);
    ordered.push(node);
  }
  for (const orphan of orphans) walk([orphan]);
  for (const node of nodes.filter((n) => !visited.has(n)).sort(earliestFirst)) walk([node]);

  const position = new Map<N, number>();
  ordered.forEach((node, index) => position.set(node, index));
  return { ordered, position, genesisRoots, orphans, forks };
}

/** Length of the longest continuation below each node, iteratively (trails can be long). */
function heights<N>(nodes: readonly N[], children: ReadonlyMap<N, readonly N[]>): Map<N, number> {
  const height = new Map<N, number>();
  for (const start of nodes) {
    if (height.has(start)) continue;
    const onPath = new Set<N>([start]);
    const stack: { node: N; next: number }[] = [{ node: start, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: N; next: number };
      const kids = children.get(top.node) ?? [];
      const kid = kids[top.next];
      if (kid !== undefined) {
        top.next++;
        // onPath guards against cycles, which only forged hashes can create.
        if (!height.has(kid) && !onPath.has(kid)) {
          onPath.add(kid);
          stack.push({ node: kid, next: 0 });
        }
        continue;
      }
      let h = 0;
      for (const k of kids) h = Math.max(h, (height.get(k) ?? 0) + 1);
      height.set(top.node, h);
      onPath.delete(top.node);
      stack.pop();
    }
  }
  return height;
}

/**
 * One grant's events genesis-first, following hashes (for exports and
 * timelines). Identical redeliveries (same event_id and event_hash) appear once.
 * Events not reachable from genesis come after the chain, each orphaned segment
 * from its earliest event by occurred_at and then along its own hashes; at a
 * fork the longest branch comes first (see {@link layoutChain}).
 */
export function chainOrder(events: AuditEventV1[]): AuditEventV1[] {
  const nodes = new Map<string, ChainLink & { event: AuditEventV1 }>();
  for (const event of events) {
    const id = `${event.event_id}:${event.event_hash}`;
    if (!nodes.has(id)) {
      nodes.set(id, {
        id,
        hashes: [event.event_hash],
        prev: event.previous_event_hash,
        occurredAt: event.occurred_at,
        event,
      });
    }
  }
  return layoutChain([...nodes.values()]).ordered.map((node) => node.event);
}
