import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '@grantstream/errors';
import { bindSecrets } from './secrets';

/** Prefix of environment variables that override configuration; `__` separates path segments. */
export const ENV_PREFIX = 'GRANTSTREAM__';

/** Environment variable naming extra config files (comma-separated), applied after the defaults. */
export const CONFIG_FILES_ENV = 'GRANTSTREAM_CONFIG';

/** Inputs of {@link loadConfig}. */
export interface LoadConfigOptions<S extends z.ZodType> {
  /** The service's zod schema, composed from shared fragments. */
  schema: S;
  /** YAML files merged in order; later files win. */
  files: readonly string[];
  /** The environment to read overrides from; the caller passes process.env once, at startup. */
  env?: Readonly<Record<string, string | undefined>>;
}

type Tree = Record<string, unknown>;

const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Loads configuration from YAML files plus `GRANTSTREAM__A__B=value` overrides,
 * validates it with zod, and throws one {@link ConfigError} listing every
 * problem (unreadable files, YAML syntax, overrides, schema) — never just the first.
 * Each schema problem names where the offending value came from.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const problems: string[] = [];
  const origin = new Map<string, string>();
  let merged: Tree = {};
  const files = [...options.files, ...extraFiles(options.env)];

  for (const file of files) {
    if (!existsSync(file)) {
      problems.push(`${file}: file not found`);
      continue;
    }
    const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true });
    for (const e of doc.errors) problems.push(`${file}: YAML ${e.message.split('\n')[0]}`);
    if (doc.errors.length > 0) continue;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isTree(value)) {
      problems.push(`${file}: top level must be a mapping`);
      continue;
    }
    merged = mergeInto(merged, value, [], file, origin);
  }

  for (const [name, raw] of Object.entries(options.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) {
      problems.push(`env ${name}: names no setting`);
      continue;
    }
    const doc = parseDocument(raw);
    const value: unknown = doc.errors.length > 0 ? raw : doc.toJS();
    const path = setByEnvPath(merged, segments, value);
    origin.set(path, `env ${name}`);
  }

  const result = options.schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String).join('.');
      problems.push(`${sourceOf(path, origin, files)}: ${path || '(root)'}: ${issue.message}`);
    }
  }
  // Secrets are checked readable now, with the rest: a Secret that is not
  // mounted fails the start, not the first connection.
  if (result.success) problems.push(...bindSecrets(result.data, options.env ?? {}));
  if (problems.length > 0) throw new ConfigError(problems);
  return (result as { data: z.infer<S> }).data;
}

function extraFiles(env: LoadConfigOptions<z.ZodType>['env']): string[] {
  const list = env?.[CONFIG_FILES_ENV];
  return list
    ? list
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : [];
}

function mergeInto(
  target: Tree,
  source: Tree,
  at: string[],
  file: string,
  origin: Map<string, string>,
): Tree {
  const out: Tree = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const path = [...at, key];
    const existing = out[key];
    if (isTree(existing) && isTree(value)) {
      out[key] = mergeInto(existing, value, path, file, origin);
    } else {
      out[key] = value;
      origin.set(path.join('.'), file);
    }
  }
  return out;
}

/**
 * Env names are upper case; config keys are camelCase. A segment matches an
 * existing key ignoring case and underscores (CONTROLLER_PORT -> controllerPort);
 * otherwise it is camel-cased, and the strict schema reports it if it is unknown.
 */
function setByEnvPath(root: Tree, segments: string[], value: unknown): string {
  const flat = (s: string) => s.replace(/_/g, '').toLowerCase();
  let node = root;
  const path: string[] = [];
  segments.forEach((segment, i) => {
    const key =
      Object.keys(node).find((k) => flat(k) === flat(segment)) ??
      segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    path.push(key);
    if (i === segments.length - 1) {
      node[key] = value;
    } else {
      if (!isTree(node[key])) node[key] = {};
      node = node[key] as Tree;
    }
  });
  return path.join('.');
}

function sourceOf(path: string, origin: Map<string, string>, files: readonly string[]): string {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const o = origin.get(p);
    if (o) return o;
  }
  return files.length === 1 ? (files[0] ?? 'config') : 'config';
}

/**
 * Entry-point form of {@link loadConfig}: on a {@link ConfigError} prints every
 * problem to stderr and exits non-zero, so a bad deployment fails at once and says why.
 */
export function loadConfigOrExit<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  return orExitOnConfigError(() => loadConfig(options));
}

/**
 * Entry-point form of anything built from configuration at startup (rule
 * packs, storage roots): a ConfigError prints every problem and exits 2,
 * like a bad configuration file.
 */
export function orExitOnConfigError<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
