import { randomUUID } from 'node:crypto';
import { loadGrantstreamConfig, type GrantstreamConfig } from '@grantstream/config';
import { createPlatformClients, type PlatformClients } from '@grantstream/kafka';
import { createLogger, type GrantLogger } from '@grantstream/logging';

/** The configuration the test run's stack was started with (defaults + the run's env overrides). */
export function testConfig(env: NodeJS.ProcessEnv = process.env): GrantstreamConfig {
  return loadGrantstreamConfig(env);
}

/** A logger for tests: errors only, so a failing test's output stays readable. */
export function testLogger(service = 'test'): GrantLogger {
  return createLogger({ service, level: 'error' });
}

/**
 * A name no other test or run uses: each test gets its own topics and groups,
 * so tests never see each other's messages and can run against one broker.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

/** Connected platform clients for a test; call `close()` in afterAll. */
export async function testClients(
  config: GrantstreamConfig = testConfig(),
  logger: GrantLogger = testLogger(),
): Promise<PlatformClients> {
  const clients = createPlatformClients(config, logger);
  await clients.admin.connect();
  return clients;
}
