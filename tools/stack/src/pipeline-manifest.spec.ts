import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import {
  EVERY_STAGE_OUTPUTS,
  INGEST_TOPIC_PATTERN,
  PIPELINE_STAGES,
  SERVICE_DECLARATIONS,
  SERVICE_NAMES,
  TOPICS,
  TOPIC_DECLARATIONS,
  declaredInputTopicsOf,
  serviceDeclaration,
  type ServiceDeclaration,
} from '@grantstream/contracts';
import { STAGE_SERVICES } from '@grantstream/harness';

// Everything that states a stage, an input, an output, a retry tier, a
// configuration section or a port must agree with schemas/pipeline.yaml: the
// default configuration, the services' code, topics.yaml's owners, the
// services/ folders. (The k8s, compose and monitoring specs check their
// files against the same declarations.)

const ROOT = resolve(__dirname, '../../..');
const config = loadConfig({ schema: z.looseObject({}), files: [DEFAULT_CONFIG_FILE], env: {} });

/** The default configuration's value at a dotted setting. */
function settingValue(setting: string): unknown {
  let node: unknown = config;
  for (const key of setting.split('.')) {
    node =
      typeof node === 'object' && node !== null
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }
  return node;
}

/** The non-spec TypeScript sources of a service. */
function sourcesOf(service: ServiceDeclaration): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path);
      return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
    });
  return walk(join(ROOT, 'services', service.name, 'src')).map((f) => readFileSync(f, 'utf8'));
}

const constantToTopic = new Map<string, string>(Object.entries(TOPICS));

/**
 * What a stage's handlers subscribe to, from its code: `topic:<name>` for
 * `@StageEvent(TOPICS.X ...)`, `setting:<key>` for
 * `@StageEvent(configuredSubscription(SETTING) ...)` (SETTING resolved from
 * its `export const` in the service).
 */
function handlerSubscriptions(service: ServiceDeclaration): string[] {
  const text = sourcesOf(service).join('\n');
  const constants = new Map(
    [...text.matchAll(/export const ([A-Z_0-9]+) = '([^']+)'/g)].map((m) => [m[1], m[2]]),
  );
  const found: string[] = [];
  for (const m of text.matchAll(
    /@StageEvent\(\s*(?:TOPICS\.([A-Z_0-9]+)|configuredSubscription\(([A-Z_0-9]+)\))/g,
  )) {
    if (m[1] !== undefined) found.push(`topic:${constantToTopic.get(m[1]) ?? m[1]}`);
    else found.push(`setting:${constants.get(m[2] ?? '') ?? String(m[2])}`);
  }
  return found.sort();
}

/** The same, as schemas/pipeline.yaml declares the stage's inputs. */
function declaredSubscriptions(service: ServiceDeclaration): string[] {
  return service.inputs
    .map((i) =>
      i.setting !== null ? `setting:${i.setting}` : `topic:${'topic' in i ? i.topic : i.pattern}`,
    )
    .sort();
}

/** Every topic a service's code names through TOPICS.X. */
function topicsNamedInCode(service: ServiceDeclaration): Set<string> {
  const named = sourcesOf(service).flatMap((text) =>
    [...text.matchAll(/\bTOPICS\.([A-Z_0-9]+)/g)].map((m) => constantToTopic.get(m[1] ?? '')),
  );
  return new Set(named.filter((t): t is string => t !== undefined));
}

describe('schemas/pipeline.yaml agrees with the default configuration', () => {
  it.each(SERVICE_NAMES)('%s listens on its declared port', (name) => {
    const s = serviceDeclaration(name);
    expect(settingValue(s.portSetting), s.portSetting).toBe(s.port);
  });

  it.each(SERVICE_NAMES)('%s reads and writes the configured topics its manifest names', (name) => {
    const s = serviceDeclaration(name);
    for (const input of s.inputs) {
      if (input.setting === null) continue;
      const expected = 'topic' in input ? input.topic : input.pattern;
      expect(settingValue(input.setting), input.setting).toBe(expected);
    }
    for (const output of [...s.outputs, ...(s.kind === 'stage' ? EVERY_STAGE_OUTPUTS : [])]) {
      if (output.setting !== null)
        expect(settingValue(output.setting), output.setting).toBe(output.topic);
    }
  });

  it('gives the retry tiers in the configuration, with the delays topics.yaml declares', () => {
    for (const s of SERVICE_DECLARATIONS) {
      if (!s.retryTiers) continue;
      const tiers = settingValue(s.retryTiers.setting) as { topic: string; delayMs: number }[];
      expect(tiers.map((t) => t.topic)).toEqual(s.retryTiers.topics);
      for (const t of tiers) {
        expect(t.delayMs, t.topic).toBe(
          TOPIC_DECLARATIONS.find((d) => d.name === t.topic)?.retryDelayMs,
        );
      }
    }
  });

  it("has ingest's pattern as the contract's INGEST_TOPIC_PATTERN", () => {
    const ingest = serviceDeclaration('ingest').inputs.find((i) => 'pattern' in i);
    expect(ingest && 'pattern' in ingest ? ingest.pattern : null).toBe(INGEST_TOPIC_PATTERN.source);
  });
});

describe("schemas/pipeline.yaml agrees with the services' code", () => {
  it.each(PIPELINE_STAGES)('%s subscribes its handlers to exactly its declared inputs', (name) => {
    const s = serviceDeclaration(name);
    expect(handlerSubscriptions(s)).toEqual(declaredSubscriptions(s));
  });

  it.each(PIPELINE_STAGES)(
    '%s names in code only topics it declares reading or writing',
    (name) => {
      const s = serviceDeclaration(name);
      const declared = new Set([
        ...declaredInputTopicsOf(s),
        ...s.outputs.map((o) => o.topic),
        ...EVERY_STAGE_OUTPUTS.map((o) => o.topic),
      ]);
      for (const topic of topicsNamedInCode(s))
        expect(declared, `${name} names ${topic}`).toContain(topic);
      for (const o of s.outputs.filter((o) => o.setting === null)) {
        expect(topicsNamedInCode(s), `${name} writes ${o.topic}`).toContain(o.topic);
      }
    },
  );

  it('has a folder, an entry point and a Dockerfile for every service, and no undeclared service folder', () => {
    const folders = readdirSync(join(ROOT, 'services'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(ROOT, 'services', e.name, 'src/main.ts')))
      .map((e) => e.name);
    expect(folders.sort()).toEqual([...SERVICE_NAMES].sort());
    for (const s of SERVICE_DECLARATIONS) {
      expect(STAGE_SERVICES[s.name]).toBe(s.entry);
      expect(existsSync(join(ROOT, `services/${s.name}/Dockerfile`)), s.name).toBe(true);
    }
  });
});

describe('schemas/pipeline.yaml agrees with topics.yaml', () => {
  it("names as each topic's owner a declared service that writes it (or upstream, or every stage)", () => {
    for (const t of TOPIC_DECLARATIONS) {
      if (t.ownerStage === 'upstream' || t.ownerStage === 'every') continue;
      expect(SERVICE_NAMES, `${t.name}: ownerStage ${t.ownerStage}`).toContain(t.ownerStage);
      const owner = SERVICE_DECLARATIONS.find((s) => s.name === t.ownerStage);
      const writes = [
        ...(owner?.outputs.map((o) => o.topic) ?? []),
        ...(owner?.retryTiers?.topics ?? []),
      ];
      expect(writes, `${t.ownerStage} writes ${t.name}`).toContain(t.name);
    }
  });
});
