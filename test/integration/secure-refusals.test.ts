// Guarantee: on the secured stack (SASL_SSL, SCRAM users, StandardAuthorizer
// with derived ACLs), whatever the broker refuses fails fast with a named,
// non-retriable error instead of retrying, looping or hanging:
// - a wrong password: KafkaAuthenticationError within one connection attempt;
// - a CA that did not sign the broker: TlsTrustError within one handshake;
// - routing started with another stage's transactional id prefix: the broker
//   refuses it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and the service stops,
//   logging KAFKA_NOT_AUTHORIZED, and exits 78 after one crash, not a loop;
// - a stage writing a topic it does not own (routing's principal writing
//   grants.ingest.v1): TOPIC_AUTHORIZATION_FAILED, the runner stops with its
//   fatal event, and nothing reaches the topic.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretRef, secureClientSecurity } from '@grantstream/config';
import { TOPICS } from '@grantstream/contracts';
import { KafkaAuthorizationError, type PipelineError } from '@grantstream/errors';
import { startStages, stopStages } from '@grantstream/harness';
import {
  KafkaAdmin,
  RAW_INPUT,
  StageRunner,
  createKafka,
  principalOf,
  type StageHandler,
} from '@grantstream/kafka';
import {
  anNsfSubmission,
  testLogger,
  uniqueName,
  untrustedCaCertificate,
} from '@grantstream/testing';
import { allRecordText, startSecureStack, type SecureStack } from '../support/secure-stack';

describe('the secured stack refuses what a principal may not do, fast and clearly', () => {
  let stack: SecureStack;
  /** One connection attempt, handshake included; the client's retry budget is tens of seconds. */
  let fastMs: number;

  beforeAll(async () => {
    stack = await startSecureStack('secure-refusals');
    fastMs = stack.config.kafka.connectionTimeoutMs * 2;
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  const adminOf = (security: ReturnType<typeof secureClientSecurity>) =>
    new KafkaAdmin(
      createKafka({ ...stack.config.kafka, ...security }, testLogger('refused-client')),
    );

  it('refuses a wrong password with KafkaAuthenticationError, at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-wrong-pw-'));
    writeFileSync(join(dir, 'pw'), 'not-the-password');
    const security = secureClientSecurity(stack.config, principalOf('routing'));
    const admin = adminOf({
      ...security,
      sasl: {
        mechanism: 'scram-sha-512',
        username: principalOf('routing'),
        password: new SecretRef({ file: join(dir, 'pw') }),
      },
    });
    const started = Date.now();
    const err = await admin.connect().then(
      () => null,
      (e: unknown) => e as PipelineError,
    );
    const elapsed = Date.now() - started;
    await admin.disconnect().catch(() => undefined);
    expect(err?.code).toBe('KAFKA_AUTHENTICATION_FAILED');
    expect(err?.retriable).toBe(false);
    expect(err?.message).toMatch(/refused this client's credentials/);
    expect(elapsed).toBeLessThan(fastMs);
    process.stdout.write(`wrong password refused in ${elapsed} ms\n`);
  });

  it('refuses a broker certificate the configured CA did not sign with TlsTrustError, at once', async () => {
    const otherCa = untrustedCaCertificate({
      days: stack.config.stack.kafka.security.certValidityDays,
      keyBits: stack.config.stack.kafka.security.keyBits,
    });
    const security = secureClientSecurity(stack.config, principalOf('routing'));
    const admin = adminOf({
      ...security,
      tls: {
        caFile: otherCa,
        certFile: null,
        keyFile: null,
        keyPassphrase: null,
        serverName: null,
      },
    });
    const started = Date.now();
    const err = await admin.connect().then(
      () => null,
      (e: unknown) => e as PipelineError,
    );
    const elapsed = Date.now() - started;
    await admin.disconnect().catch(() => undefined);
    expect(err?.code).toBe('TLS_UNTRUSTED');
    expect(err?.retriable).toBe(false);
    expect(err?.message).toMatch(/not trusted/);
    expect(elapsed).toBeLessThan(fastMs);
    process.stdout.write(`untrusted certificate refused in ${elapsed} ms\n`);
  });

  it(
    'stops routing run under another stage transactional id: exit 78, one crash, no loop',
    {
      timeout: 240_000,
    },
    async () => {
      // Anything on routing's input makes it open its transactional producer.
      await stack.admin.io.produce(TOPICS.NORMALIZED, [
        { key: 'NSF-2026-00001', value: Buffer.from('x') },
      ]);
      const logDir = mkdtempSync(join(tmpdir(), 'gs-foreign-txn-'));
      const [routing] = startStages(['routing'], {
        logDir,
        env: {
          ...stack.envFor(principalOf('routing')),
          GRANTSTREAM__ROUTING__RUNNER__GROUP_ID: uniqueName('grantstream.routing.foreign'),
          // Submission's ids: routing's principal may not use them.
          GRANTSTREAM__ROUTING__RUNNER__TRANSACTIONAL_ID_PREFIX: 'grantstream.submission',
        },
      });
      const started = Date.now();
      const code = await Promise.race([
        routing!.exited,
        new Promise<'running'>((r) =>
          setTimeout(() => r('running'), stack.config.stack.readyTimeoutMs),
        ),
      ]);
      if (code === 'running') await stopStages([routing!], stack.config.stack.stopTimeoutMs);
      const elapsed = Date.now() - started;
      const log = readFileSync(routing!.logFile, 'utf8');
      expect(code).toBe(78);
      expect(log).toContain('KAFKA_NOT_AUTHORIZED');
      expect(log).toContain('TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
      expect(
        log.split('\n').filter((l) => l.includes('consumer crashed')).length,
      ).toBeLessThanOrEqual(1);
      expect(log).not.toContain('consumer restart failed');
      process.stdout.write(
        `routing under a foreign transactional id exited 78 after ${elapsed} ms\n`,
      );
    },
  );

  it('stops a stage writing a topic it does not own: TOPIC_AUTHORIZATION_FAILED, nothing written', async () => {
    const routing = stack.clientsFor(principalOf('routing'));
    const group = uniqueName('grantstream.routing.writes-ingest');
    const writesIngest: StageHandler<unknown> = {
      subscriptions: [TOPICS.NORMALIZED],
      input: RAW_INPUT,
      handle: (message) =>
        Promise.resolve({
          records: [
            {
              topic: TOPICS.INGEST,
              key: message.key,
              value: anNsfSubmission(message.key ?? 'NSF-2026-00002', []),
            },
          ],
        }),
    };
    const runner = new StageRunner({
      service: { stage: 'routing', name: 'grantstream-routing', version: '0' },
      config: { ...stack.config.runner, groupId: group, transactionalIdPrefix: group },
      kafka: routing.kafka,
      serde: routing.serde,
      handlers: [writesIngest],
      logger: testLogger('writes-ingest'),
    });
    const crashes: Error[] = [];
    runner.on('crashed', ({ error }) => crashes.push(error));
    const fatal = new Promise<PipelineError>((r) => runner.once('fatal', ({ error }) => r(error)));
    const started = Date.now();
    await runner.start();
    const error = await Promise.race([
      fatal,
      new Promise<null>((r) => setTimeout(() => r(null), stack.config.runner.shutdownGraceMs)),
    ]);
    const elapsed = Date.now() - started;
    await runner.stop();
    await routing.close();
    expect(error).toBeInstanceOf(KafkaAuthorizationError);
    expect((error as KafkaAuthorizationError).refusal).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(error?.category).toBe('CONFIGURATION');
    expect(crashes.length).toBeLessThanOrEqual(1);
    const ingest = await allRecordText(stack, [TOPICS.INGEST]);
    expect(ingest).toBe('');
    process.stdout.write(`write to ${TOPICS.INGEST} refused, runner stopped after ${elapsed} ms\n`);
  });
});
