import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  orExitOnConfigError,
  platformConfigSchema,
} from '@grantstream/config';
import { readModelSectionSchema } from '@grantstream/read-model';

const homePath = z
  .string()
  .min(1)
  .transform((p) => (p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p));

/** The console's own section: where it listens, who may sign in, sessions, pages, redrive rules, its read model. */
export const consoleSectionSchema = z.strictObject({
  /** Loopback by default: the console shows every grant; expose it only behind a proxy with TLS. */
  host: z.string().min(1),
  port: z.int().min(0).max(65535),
  /**
   * The local users file: JSON `[{ "username", "role", "passwordHash" }]`,
   * hashes from `tsx services/console/src/hash-password.ts`. A path, never
   * the users themselves: no password hash sits in a config file.
   */
  usersFile: homePath,
  /** scrypt cost of new hashes (hash-password); a stored hash carries its own parameters. */
  scrypt: z.strictObject({
    cost: z.int().min(1024),
    blockSize: z.int().min(1),
    parallelization: z.int().min(1),
    keyBytes: z.int().min(16),
    saltBytes: z.int().min(16),
    /** Largest memory one hash may take (Node refuses costlier ones). */
    maxMemoryBytes: z.int().positive(),
  }),
  session: z.strictObject({
    cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/),
    /** A session ends this long after sign-in, whatever its use. */
    ttlMs: z.int().positive(),
    /** Sessions held at once at most; the oldest ends first. */
    maxSessions: z.int().min(1),
    /** Set the cookie's Secure flag: on wherever the console is reached over HTTPS. */
    secureCookie: z.boolean(),
    tokenBytes: z.int().min(16),
  }),
  /** Largest request body read (a form or JSON); a larger one is refused with 413. */
  maxBodyBytes: z.int().min(1024),
  /** Rows a search or list page shows at most. */
  pageSize: z.int().min(1),
  /** Bytes of an undecodable value shown as hex at most. */
  maxHexBytes: z.int().min(16),
  /** Operator redrive of dead letters (grantctl's rules, shared through libs/dead-letters). */
  redrive: z.strictObject({
    /** The console's own transactional id: grantctl's would fence it, and it grantctl. */
    transactionalId: z.string().min(1),
  }),
  readModel: readModelSectionSchema,
});

/** Parsed {@link consoleSectionSchema}. */
export type ConsoleSection = z.infer<typeof consoleSectionSchema>;

/** The console's configuration: platform (broker, registry, logging), the dead-letter rules, its own section. */
export const consoleConfigSchema = platformConfigSchema.extend({
  dlq: z.object({
    /** Refused unless forced: the payload itself failed (shared with grantctl dlq redrive). */
    refuseCategories: z.array(z.string().min(1)),
  }),
  console: consoleSectionSchema,
});

/** Parsed {@link consoleConfigSchema}. */
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** Loads and checks the console's configuration from the default file, GRANTSTREAM_CONFIG overlays and env overrides. */
export function loadConsoleSettings(
  env: Readonly<Record<string, string | undefined>>,
  files: readonly string[] = [DEFAULT_CONFIG_FILE],
): ConsoleConfig {
  return loadConfig({ schema: consoleConfigSchema, files, env });
}

/** Entry-point form of {@link loadConsoleSettings}: every problem is printed and the process exits 2. */
export function loadConsoleConfig(
  env: Readonly<Record<string, string | undefined>>,
): ConsoleConfig {
  return orExitOnConfigError(() => loadConsoleSettings(env));
}
