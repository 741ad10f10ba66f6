import type { AuditEventV1 } from '@grantstream/contracts';
import { ANNOTATION_ACTIONS } from './annotations';
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
  // Successors are grouped by the exact hash they name: a node with several
  // versions (a decision re-made when its input was read again) has one line
  // of successors per version, which is a replay, not a fork.
  const byPrev = new Map<string, N[]>();
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
    const siblings = byPrev.get(node.prev);
    if (siblings === undefined) byPrev.set(node.prev, [node]);
    else siblings.push(node);
  }
  for (const node of nodes) {
    const kids: N[] = [];
    for (const hash of node.hashes) kids.push(...(byPrev.get(hash) ?? []));
    if (kids.length > 0) children.set(node, kids);
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
  for (const [prev, group] of byPrev) {
    group.sort(mainFirst);
    addFork(prev, group);
  }
  // A node's successors: the line of its first version first, each line main branch first.
  for (const [node, kids] of children) {
    const versionOf = (kid: N): number => node.hashes.indexOf(kid.prev);
    kids.sort((a, b) => versionOf(a) - versionOf(b) || mainFirst(a, b));
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
 * When a trail started: the earliest occurred_at of its events. Not the time
 * of its genesis event, which a trail missing its start does not have; for
 * an intact trail the two agree, as every decision follows the one before it.
 */
export function trailStart(events: readonly { occurredAt: number }[]): number {
  let start = Number.POSITIVE_INFINITY;
  for (const e of events) start = Math.min(start, e.occurredAt);
  return Number.isFinite(start) ? start : 0;
}

/** What {@link orderTrails} needs of one audit event (its own fields, named as in the contract). */
export interface TrailItem {
  grant_id: string;
  audit_trail_id: string;
  event_id: string;
  event_hash: string;
  previous_event_hash: string;
  occurred_at: number;
  action: AuditEventV1['action'];
}

/**
 * Items in the order things happened: grouped by grant (grant ids sorted),
 * each grant's trails by when they started ({@link trailStart}, then the
 * trail id), each trail in chain order (see
 * {@link layoutChain}: genesis first, following previous_event_hash, branches
 * deterministic). Versions of one event (same event_id, different hashes: a
 * decision re-made, or a conflicting copy) stand together at the event's
 * place, in input order; an identical redelivery (same event_id and
 * event_hash) appears once.
 *
 * Pure and generic so that callers can order small stand-ins (a replay keeps
 * only links and a spool position per event) rather than whole events.
 */
export function orderTrails<T extends TrailItem>(items: Iterable<T>): T[] {
  interface Node extends ChainLink {
    grantId: string;
    trailId: string;
    versions: T[];
    hashSet: Set<string>;
  }
  const trails = new Map<string, Map<string, Node>>();
  for (const item of items) {
    const trailKey = `${item.grant_id}\u0000${item.audit_trail_id}`;
    let nodes = trails.get(trailKey);
    if (nodes === undefined) {
      nodes = new Map();
      trails.set(trailKey, nodes);
    }
    const node = nodes.get(item.event_id);
    if (node === undefined) {
      nodes.set(item.event_id, {
        id: item.event_id,
        hashes: [item.event_hash],
        prev: item.previous_event_hash,
        occurredAt: item.occurred_at,
        annotation: ANNOTATION_ACTIONS.has(item.action),
        grantId: item.grant_id,
        trailId: item.audit_trail_id,
        versions: [item],
        hashSet: new Set([item.event_hash]),
      });
    } else if (!node.hashSet.has(item.event_hash)) {
      node.hashSet.add(item.event_hash);
      (node.hashes as string[]).push(item.event_hash);
      node.versions.push(item);
    }
  }
  const laidOut = [...trails.values()].map((nodes) => {
    const ordered = layoutChain([...nodes.values()]).ordered;
    const first = ordered[0];
    return {
      grantId: first?.grantId ?? '',
      trailId: first?.trailId ?? '',
      startedAt: trailStart(ordered),
      ordered,
    };
  });
  laidOut.sort(
    (a, b) =>
      compareIds(a.grantId, b.grantId) ||
      a.startedAt - b.startedAt ||
      compareIds(a.trailId, b.trailId),
  );
  return laidOut.flatMap((trail) => trail.ordered.flatMap((node) => node.versions));
}

/**
 * Audit events in chain order, trail by trail (see {@link orderTrails}), for
 * exports and timelines. Identical redeliveries (same event_id and
 * event_hash) appear once. Events not reachable from genesis come after their
 * trail's chain, each orphaned segment from its earliest event by occurred_at
 * and then along its own hashes; at a fork the longest branch comes first
 * (see {@link layoutChain}).
 */
export function chainOrder(events: AuditEventV1[]): AuditEventV1[] {
  return orderTrails(events);
}
