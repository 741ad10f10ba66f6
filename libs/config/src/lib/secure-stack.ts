/**
 * How a client reaches the local stack in its secured mode (tools/stack
 * secure-files.ts makes the files): where the CA and the users' password
 * files are, and the connection settings or overrides of one user.
 */
import { join } from 'node:path';
import { SecretRef } from './secrets';
import type { KafkaConnectionConfig } from './fragments';
import type { GrantstreamConfig as StackConfig } from './stack';

/** Where the secured mode keeps its CA, certificates and users' passwords (`<stateDir>/secure`). */
export interface SecureLayout {
  dir: string;
  /** The CA certificate clients trust (PEM). */
  caCert: string;
  caKey: string;
  /** The broker's private key and certificate chain, one PEM file (Kafka's PEM key store). */
  brokerPem: string;
  usersDir: string;
}

/** The secured mode's files of one stack. */
export function secureLayout(config: StackConfig): SecureLayout {
  const dir = join(config.stack.stateDir, 'secure');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    brokerPem: join(dir, 'broker.pem'),
    usersDir: join(dir, 'users'),
  };
}

/** Whether the stack runs in its secured mode (`stack.kafka.security.mode: sasl_ssl`). */
export function isSecured(config: StackConfig): boolean {
  return config.stack.kafka.security.mode === 'sasl_ssl';
}

/** The file holding a user's generated SCRAM password. */
export function passwordFile(config: StackConfig, user: string): string {
  return join(secureLayout(config).usersDir, `${user}.password`);
}

/**
 * The security settings of a client of the secured stack connecting as
 * `user`: the stack's CA, SCRAM with the user's password file (read at each
 * connection, never copied into configuration).
 */
export function secureClientSecurity(
  config: StackConfig,
  user: string,
): Pick<KafkaConnectionConfig, 'tls' | 'sasl'> {
  const layout = secureLayout(config);
  return {
    tls: {
      caFile: layout.caCert,
      certFile: null,
      keyFile: null,
      keyPassphrase: null,
      serverName: null,
    },
    sasl: {
      mechanism: config.stack.kafka.security.mechanism,
      username: user,
      password: new SecretRef({ file: passwordFile(config, user) }),
    },
  };
}

/** The same as configuration overrides, for a process started as `user` (a stage, grantctl). */
export function secureClientEnv(config: StackConfig, user: string): Record<string, string> {
  const layout = secureLayout(config);
  return {
    GRANTSTREAM__KAFKA__TLS: JSON.stringify({ caFile: layout.caCert }),
    GRANTSTREAM__KAFKA__SASL: JSON.stringify({
      mechanism: config.stack.kafka.security.mechanism,
      username: user,
      password: { file: passwordFile(config, user) },
    }),
  };
}
