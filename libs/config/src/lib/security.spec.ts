import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@grantstream/errors';
import { loadGrantstreamConfig } from './stack';
import { SecretRef } from './secrets';
import { LITERAL_SECRET_REFUSED } from './secrets';
import { describeKafkaSecurity, describeRegistrySecurity, kafkaSecurityProtocol } from './security';

function overlay(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gs-secure-')), 'overlay.yaml');
  writeFileSync(file, yaml);
  return file;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('kafka and registry security configuration', () => {
  it('is plaintext with no registry credentials by default', () => {
    const c = loadGrantstreamConfig({});
    expect(kafkaSecurityProtocol(c.kafka)).toBe('PLAINTEXT');
    expect(describeRegistrySecurity(c.registry)).toBe('HTTP, no authentication');
  });

  it('refuses a literal password in a file and in an override, naming where it came from', () => {
    const file = overlay(
      'kafka:\n  tls: { caFile: /tmp/ca.pem }\n  sasl: { mechanism: scram-sha-512, username: u, password: hunter22 }\n',
    );
    const problems = problemsOf(() =>
      loadGrantstreamConfig({
        GRANTSTREAM_CONFIG: file,
        GRANTSTREAM__REGISTRY__AUTH: '{ kind: basic, username: k, password: literal-pw }',
      }),
    );
    expect(problems.some((p) => p.includes(file) && p.includes(LITERAL_SECRET_REFUSED))).toBe(true);
    expect(problems.some((p) => p.includes('env GRANTSTREAM__REGISTRY__AUTH'))).toBe(true);
    expect(problems.join('\n')).not.toContain('hunter22');
  });

  it('reads secrets from the environment and from files, and reports one it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-secret-'));
    writeFileSync(join(dir, 'token'), 'file-token-value\n');
    const file = overlay(
      [
        'kafka:',
        '  tls: { caFile: /tmp/ca.pem }',
        '  sasl: { mechanism: scram-sha-256, username: grantstream-routing, password: { env: KAFKA_PW } }',
        'registry:',
        `  auth: { kind: bearer, token: { file: ${join(dir, 'token')} } }`,
      ].join('\n'),
    );
    const c = loadGrantstreamConfig({ GRANTSTREAM_CONFIG: file, KAFKA_PW: 'env-password' });
    expect(c.kafka.sasl?.mechanism).toBe('scram-sha-256');
    const sasl = c.kafka.sasl as { password: SecretRef };
    expect(sasl.password.reveal()).toBe('env-password');
    expect(describeKafkaSecurity(c.kafka)).toBe(
      'SASL_SSL, SCRAM-SHA-256, user grantstream-routing, password from env KAFKA_PW, CA /tmp/ca.pem',
    );
    expect(describeRegistrySecurity(c.registry)).toContain(`bearer token from file ${dir}`);
    expect(JSON.stringify(c)).not.toContain('env-password');
    expect(JSON.stringify(c)).not.toContain('file-token-value');

    const missing = problemsOf(() => loadGrantstreamConfig({ GRANTSTREAM_CONFIG: file }));
    expect(missing).toContain('kafka.sasl.password: environment variable KAFKA_PW is not set');
    const gone = new SecretRef({ file: join(dir, 'absent') });
    expect(() => gone.reveal()).toThrow(
      `secret file ${join(dir, 'absent')} cannot be read (ENOENT)`,
    );
  });

  it('refuses SASL PLAIN without TLS and a client certificate without its key', () => {
    const file = overlay(
      'kafka:\n  sasl: { mechanism: plain, username: u, password: { env: PW } }\nregistry:\n  tls: { certFile: /tmp/c.pem }\n',
    );
    const problems = problemsOf(() =>
      loadGrantstreamConfig({ GRANTSTREAM_CONFIG: file, PW: 'pw-value' }),
    );
    expect(problems.some((p) => p.includes('SASL PLAIN'))).toBe(true);
    expect(problems.some((p) => p.includes('certFile and keyFile go together'))).toBe(true);
  });
});
