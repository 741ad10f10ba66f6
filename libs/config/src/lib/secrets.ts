import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { registerSecret } from '@grantstream/errors';

/** `~/x` as a path under the home directory; other paths unchanged. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : path;
}

/** Where a secret's value is read from: an environment variable or a file (a mounted Kubernetes Secret). */
export type SecretSource = { env: string } | { file: string };

/** What a configuration file says instead of a literal secret. */
export const LITERAL_SECRET_REFUSED =
  'a literal secret is refused in configuration: give { env: VARIABLE } or { file: /path/to/secret }';

/**
 * A secret named by configuration, never held by it. The value is read when
 * a client needs it: an environment variable from the environment the
 * configuration was loaded with, a file on every read, so a rotated
 * Kubernetes Secret (the kubelet rewrites the mounted file) is picked up by
 * the next connection without a restart. Printing or serialising a SecretRef
 * shows where the value comes from, never the value; every value read is
 * registered so log lines and error messages are scrubbed of it.
 */
export class SecretRef {
  private env: Readonly<Record<string, string | undefined>> = {};

  readonly source: SecretSource;

  constructor(source: SecretSource) {
    this.source = 'file' in source ? { file: expandHome(source.file) } : source;
  }

  /** Binds the environment an `env` secret is read from (loadConfig does it once, at startup). */
  bindEnvironment(env: Readonly<Record<string, string | undefined>>): this {
    this.env = env;
    return this;
  }

  /** Why the value cannot be read now, or null when it can. */
  problem(): string | null {
    try {
      this.reveal();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /** The secret's value (trailing newline of a file removed); registered for scrubbing. */
  reveal(): string {
    let value: string | undefined;
    if ('env' in this.source) {
      value = this.env[this.source.env];
      if (value === undefined || value === '')
        throw new Error(`environment variable ${this.source.env} is not set`);
    } else {
      try {
        value = readFileSync(this.source.file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new Error(
          `secret file ${this.source.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      if (value === '') throw new Error(`secret file ${this.source.file} is empty`);
    }
    registerSecret(value);
    return value;
  }

  /** Where the value comes from, e.g. `env GRANTSTREAM_KAFKA_PASSWORD` (never the value). */
  describe(): string {
    return 'env' in this.source ? `env ${this.source.env}` : `file ${this.source.file}`;
  }

  toJSON(): SecretSource {
    return this.source;
  }

  toString(): string {
    return `[secret from ${this.describe()}]`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
const sourceSchema = z.union([
  z.strictObject({ env: envName }),
  z.strictObject({ file: z.string().min(1) }),
]);

/**
 * A secret in configuration: `{ env: NAME }` or `{ file: PATH }`, parsed to
 * a {@link SecretRef}. A plain string is refused, whatever it holds: a
 * configuration file is committed, copied and printed, a secret must not be.
 */
export const secretRefSchema = z.unknown().transform((value, ctx): SecretRef => {
  if (value instanceof SecretRef) return value;
  if (typeof value === 'string' || typeof value === 'number') {
    ctx.addIssue({ code: 'custom', message: LITERAL_SECRET_REFUSED });
    return z.NEVER;
  }
  const parsed = sourceSchema.safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({
      code: 'custom',
      message: `expected { env: VARIABLE } or { file: /path/to/secret } (${parsed.error.issues.map((i) => i.message).join('; ')})`,
    });
    return z.NEVER;
  }
  return new SecretRef(parsed.data);
});

/**
 * Binds every {@link SecretRef} in a parsed configuration to `env` and
 * returns, for each environment variable that is not set, `path: why`: a
 * deployment whose Secret is not in its environment fails at startup, with
 * the other problems, not at its first connection. Files are read when
 * used, not here: a token refresher or the local stack may write them after
 * the configuration is loaded, and a missing file is named when read.
 */
export function bindSecrets(
  config: unknown,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const problems: string[] = [];
  const walk = (node: unknown, path: string[]): void => {
    if (node instanceof SecretRef) {
      node.bindEnvironment(env);
      const problem = 'env' in node.source ? node.problem() : null;
      if (problem) problems.push(`${path.join('.')}: ${problem}`);
      return;
    }
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, String(i)]));
    else if (
      typeof node === 'object' &&
      node !== null &&
      Object.getPrototypeOf(node) === Object.prototype
    )
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(config, []);
  return problems;
}
