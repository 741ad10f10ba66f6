import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_CONFIG_FILE, DEFAULT_CONFIG_FILE } from '@grantstream/config';
import { WORKSPACE_ROOT } from '@grantstream/harness';

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

describe('overlays that run beside the default stack', () => {
  const defaults = load(DEFAULT_CONFIG_FILE);
  const taken = portsOf(defaults);

  it.each([
    ['config/cluster.yaml', CLUSTER_CONFIG_FILE],
    ['test/cluster/single-node.yaml', join(WORKSPACE_ROOT, 'test/cluster/single-node.yaml')],
  ])('%s shares no port with config/grantstream.yaml', (_name, file) => {
    const ports = portsOf(merged(defaults, load(file)));
    expect(taken.size).toBeGreaterThan(10);
    expect([...ports].filter((p) => taken.has(p)).sort()).toEqual([]);
  });

  it('the cluster and the reference single-node stack share no port either', () => {
    const cluster = portsOf(merged(defaults, load(CLUSTER_CONFIG_FILE)));
    const single = portsOf(
      merged(defaults, load(join(WORKSPACE_ROOT, 'test/cluster/single-node.yaml'))),
    );
    expect([...single].filter((p) => cluster.has(p)).sort()).toEqual([]);
  });
});
