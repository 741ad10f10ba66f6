import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_CONFIG_FILE, DEFAULT_CONFIG_FILE } from '@grantstream/config';
import { WORKSPACE_ROOT } from '@grantstream/harness';
import {
  ISOLATED_STACKS,
  ISOLATED_STACK_BLOCK,
  type IsolatedStack,
} from '../support/isolated-stacks';

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base` as the config loader merges files: mappings deeply, the rest replaced. */
function merged(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? merged(b, v) : v;
  }
  return out;
}

/**
 * Every port a file's settings make something listen on or connect to: values
 * of keys named *port / *Port (a Kafka node i also takes base + i) and the
 * ports in URLs and broker addresses.
 */
function portsOf(tree: Tree): Set<number> {
  const ports = new Set<number>();
  const nodes = Number((((tree['stack'] as Tree)['kafka'] as Tree)['nodes'] as number) ?? 1);
  const walk = (v: unknown, key: string, inKafka: boolean) => {
    if (typeof v === 'number' && /port$/i.test(key))
      for (let i = 0; i < (inKafka ? nodes : 1); i += 1) ports.add(v + i);
    else if (typeof v === 'string')
      for (const m of v.matchAll(/:(\d{2,5})(?=\/|$)/g)) ports.add(Number(m[1]));
    else if (Array.isArray(v)) v.forEach((x) => walk(x, key, inKafka));
    else if (isTree(v))
      for (const [k, x] of Object.entries(v))
        walk(x, k, inKafka || k === 'kafka' || k === 'faultProxy');
  };
  walk(tree, '', false);
  return ports;
}

const load = (file: string) => parse(readFileSync(file, 'utf8')) as Tree;

const defaults = load(DEFAULT_CONFIG_FILE);
const OVERLAYS = {
  'config/grantstream.yaml': defaults,
  'config/cluster.yaml': merged(defaults, load(CLUSTER_CONFIG_FILE)),
  'config/secure.yaml': merged(defaults, load(join(WORKSPACE_ROOT, 'config/secure.yaml'))),
  'test/cluster/single-node.yaml': merged(
    defaults,
    load(join(WORKSPACE_ROOT, 'test/cluster/single-node.yaml')),
  ),
};
const overlayPorts = Object.entries(OVERLAYS).map(([name, tree]) => ({
  name,
  ports: portsOf(tree),
}));

/** The ports two sets share, sorted. */
const shared = (a: Set<number>, b: Set<number>) => [...a].filter((p) => b.has(p)).sort();

// Everything here runs at once in CI: the shared stack and the integration
// scenarios' isolated stacks, the cluster and the cluster scenarios' reference
// single-node stack. Two of them on one port: the second broker exits and the
// first answers its clients.
describe('the port plan of every stack that runs at once', () => {
  it('reads a full set of ports from every overlay', () => {
    for (const { ports } of overlayPorts) expect(ports.size).toBeGreaterThan(10);
  });

  const pairs = overlayPorts.flatMap((a, i) =>
    overlayPorts
      .slice(i + 1)
      .map((b) => ({ a: a.name, b: b.name, ours: a.ports, theirs: b.ports })),
  );
  it.each(pairs)('$a and $b share no port', ({ ours, theirs }) => {
    expect(shared(ours, theirs)).toEqual([]);
  });

  const blocks = Object.entries(ISOLATED_STACKS) as [IsolatedStack, number][];

  it.each(blocks)('the isolated stack %s owns its block alone', (name, base) => {
    const block = new Set(Array.from({ length: ISOLATED_STACK_BLOCK }, (_, i) => base + i));
    for (const o of overlayPorts) expect(shared(block, o.ports), o.name).toEqual([]);
    for (const [other, start] of blocks)
      if (other !== name)
        expect(Math.abs(start - base), other).toBeGreaterThanOrEqual(ISOLATED_STACK_BLOCK);
  });
});
