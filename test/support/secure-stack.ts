import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  loadGrantstreamConfig,
  passwordFile,
  secureClientEnv,
  secureClientSecurity,
  secureLayout,
  type GrantstreamConfig,
} from '@grantstream/config';
import { TOPIC_DECLARATIONS, SERVICE_DECLARATIONS } from '@grantstream/contracts';
import {
  TopicScanner,
  applyDeclaredTopics,
  createPlatformClients,
  principalOf,
  topicSpecsOf,
  type PlatformClients,
} from '@grantstream/kafka';
import { ENTRY, runTs, testLogger } from '@grantstream/testing';
import { isolatedStackEnv, type IsolatedStack } from './isolated-stacks';

/** A secured stack started by one scenario on its own ports and state folder. */
export interface SecureStack {
  config: GrantstreamConfig;
  /** Overrides that point a process at this stack (ports, registry), without credentials. */
  env: Record<string, string>;
  /** Platform clients connected as the admin user (topics, records, scans). */
  admin: PlatformClients;
  /** Overrides that make a process connect as `user` (TLS with the stack's CA, SCRAM). */
  envFor(user: string): Record<string, string>;
  /** Platform clients connected as `user`. */
  clientsFor(user: string): PlatformClients;
  /** Every generated SCRAM password of the stack. */
  passwords(): string[];
  /** Disconnects, stops every component and removes the state folder. */
  stop(): Promise<void>;
}

/**
 * Starts the local stack in its secured mode (SASL_SSL listener, SCRAM users,
 * StandardAuthorizer, derived ACLs) on the ports of the isolated stack `name`
 * (isolated-stacks.ts), in a fresh state folder under ~/.cache/grantstream,
 * and applies the declared topics as the admin user.
 */
export async function startSecureStack(name: IsolatedStack): Promise<SecureStack> {
  const stateDir = join(homedir(), '.cache', 'grantstream', `it-${name}`);
  rmSync(stateDir, { recursive: true, force: true });
  const env: Record<string, string> = {
    ...isolatedStackEnv(name, stateDir),
    GRANTSTREAM__STACK__KAFKA__SECURITY__MODE: 'sasl_ssl',
  };
  // Stages serve metrics on free ports: fixed ones could be another test's.
  for (const s of SERVICE_DECLARATIONS)
    if (s.kind === 'stage') env[`GRANTSTREAM__${s.envSection}__METRICS__PORT`] = '0';
  const config = loadGrantstreamConfig({ ...process.env, ...env });
  const log = testLogger('secure-stack');
  // The stack commands, as an operator runs them: `stack up` with the secured mode's overrides.
  const up = await runTs(ENTRY.stack, ['up'], {
    env: env,
    timeoutMs: config.stack.readyTimeoutMs * 2,
  });
  if (up.code !== 0) throw new Error(`secured stack did not start: ${up.stderr.slice(-2000)}`);
  const adminUser = config.stack.kafka.security.adminUser;
  const clientsFor = (user: string) =>
    createPlatformClients(
      { ...config, kafka: { ...config.kafka, ...secureClientSecurity(config, user) } },
      log,
    );
  const admin = clientsFor(adminUser);
  await admin.admin.connect();
  await applyDeclaredTopics(admin, config, topicSpecsOf(TOPIC_DECLARATIONS), false);
  return {
    config,
    env,
    admin,
    envFor: (user) => ({ ...env, ...secureClientEnv(config, user) }),
    clientsFor,
    passwords: () => {
      const dir = secureLayout(config).usersDir;
      return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8').trim());
    },
    stop: async () => {
      await admin.close().catch(() => undefined);
      await runTs(ENTRY.stack, ['down'], { env, timeoutMs: config.stack.stopTimeoutMs * 4 });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The principal a stage connects as. */
export const stagePrincipal = principalOf;

/** Whether the stack generated a password for `user`. */
export function hasUser(config: GrantstreamConfig, user: string): boolean {
  return existsSync(passwordFile(config, user));
}

/**
 * Every record (key, value, header values) of every topic of the stack (or
 * of `only`), as text: what a secret scan searches. Read as the admin user,
 * from offset 0, read_committed.
 */
export async function allRecordText(
  stack: SecureStack,
  only: readonly string[] | null = null,
): Promise<string> {
  const topics = only ?? (await stack.admin.admin.listTopics()).filter((t) => !t.startsWith('__'));
  const scanner = new TopicScanner(stack.admin.kafka);
  const parts: string[] = [];
  try {
    for (const topic of topics) {
      for await (const m of scanner.scan(topic, stack.config.audit)) {
        parts.push(m.key?.toString('latin1') ?? '', m.value?.toString('latin1') ?? '');
        for (const h of Object.values(m.headers)) parts.push(h?.toString('latin1') ?? '');
      }
    }
  } finally {
    await scanner.close();
  }
  return parts.join('\n');
}
