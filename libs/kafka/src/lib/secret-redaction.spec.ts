import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SecretRef } from '@grantstream/config';
import { InfrastructureError, KafkaAuthorizationError } from '@grantstream/errors';
import { createLogger } from '@grantstream/logging';
import { kafkaSecurityFailureOf, kafkaSecurityOptions } from './kafka-client';
import { registryAuthHeaders } from './serde/registry-http';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, destination };
}

const SASL_PASSWORD = 'sasl-pw-7f3a91c2';
const REGISTRY_PASSWORD = 'registry-pw-55e1b0';
const FUNDER_TOKEN = 'funder-token-c0ffee42';

describe('secrets in logs and errors', () => {
  const env = {
    KAFKA_PW: SASL_PASSWORD,
    REGISTRY_PW: REGISTRY_PASSWORD,
    FUNDER_TOKEN_NSF: FUNDER_TOKEN,
  };
  const sasl = new SecretRef({ env: 'KAFKA_PW' }).bindEnvironment(env);
  const registry = new SecretRef({ env: 'REGISTRY_PW' }).bindEnvironment(env);
  const funder = new SecretRef({ env: 'FUNDER_TOKEN_NSF' }).bindEnvironment(env);

  it('never reach a log line, whatever shape carries them', () => {
    const options = kafkaSecurityOptions({
      tls: null,
      sasl: { mechanism: 'scram-sha-512', username: 'grantstream-routing', password: sasl },
    });
    const headers = registryAuthHeaders({
      url: 'https://registry',
      requestTimeoutMs: 1,
      negativeCacheTtlMs: 1,
      decodeLimits: { maxBodyBytes: 1, maxItems: 1, maxStringBytes: 1, maxDepth: 1 },
      auth: { kind: 'basic', username: 'key', password: registry },
      tls: null,
    });
    const token = funder.reveal();
    const { lines, destination } = capture();
    const log = createLogger({ service: 't', destination });
    log.info({ kafka: options, sasl: options.sasl }, 'connecting');
    log.info({ config: { sasl: { password: sasl } } }, 'config');
    log.info({ headers }, 'registry call');
    log.error({ err: new Error(`portal said: bad token ${token}`) }, 'portal failed');
    log.warn(`retrying with ${(options.sasl as { password: string }).password}`);
    log.info({ url: `https://key:${REGISTRY_PASSWORD}@registry/subjects` }, 'url');
    const text = lines.join('\n');
    expect(lines).toHaveLength(6);
    for (const secret of [SASL_PASSWORD, REGISTRY_PASSWORD, FUNDER_TOKEN])
      expect(text).not.toContain(secret);
    expect(text).toContain('[REDACTED]');
    // The basic-auth header is base64 of the password: it must go too.
    expect(text).not.toContain(headers.Authorization?.slice('Basic '.length) ?? 'x');
  });

  it('never reach an error message or its JSON', () => {
    funder.reveal();
    const err = new InfrastructureError(`call with token ${FUNDER_TOKEN} failed`, {
      cause: new Error(`server echoed ${FUNDER_TOKEN}`),
    });
    expect(err.message).not.toContain(FUNDER_TOKEN);
    expect(JSON.stringify(err.toJSON())).not.toContain(FUNDER_TOKEN);
  });

  it('print where a secret comes from, not its value', () => {
    expect(String(sasl)).toBe('[secret from env KAFKA_PW]');
    expect(JSON.stringify({ sasl })).toBe('{"sasl":{"env":"KAFKA_PW"}}');
  });
});

describe('kafkaSecurityFailureOf', () => {
  it('names a refused ACL, even wrapped by the client retrier', () => {
    const protocol = Object.assign(new Error('Not authorized to access topics'), {
      name: 'KafkaJSProtocolError',
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    const wrapped = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: protocol,
    });
    const failure = kafkaSecurityFailureOf(wrapped);
    expect(failure).toBeInstanceOf(KafkaAuthorizationError);
    expect(failure?.retriable).toBe(false);
    expect(failure?.category).toBe('CONFIGURATION');
    expect((failure as KafkaAuthorizationError).refusal).toBe('TOPIC_AUTHORIZATION_FAILED');
  });

  it('names refused credentials and untrusted certificates, and nothing else', () => {
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(kafkaSecurityFailureOf(sasl)?.code).toBe('KAFKA_AUTHENTICATION_FAILED');
    const tls = Object.assign(new Error('Connection error: self-signed certificate in chain'), {
      name: 'KafkaJSConnectionError',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(kafkaSecurityFailureOf(tls)?.code).toBe('TLS_UNTRUSTED');
    const outage = Object.assign(new Error('Connection error: ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      code: 'ECONNREFUSED',
    });
    expect(kafkaSecurityFailureOf(outage)).toBeNull();
  });
});
