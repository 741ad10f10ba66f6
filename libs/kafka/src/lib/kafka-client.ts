import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  Kafka,
  logLevel,
  type Admin,
  type AdminConfig,
  type Consumer,
  type ConsumerConfig,
  type KafkaConfig,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
  type logCreator,
} from '@grantstream/kafkajs-extended';
import type { KafkaConnectionConfig, SaslConfig, TlsConfig } from '@grantstream/config';
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  TlsTrustError,
  isPipelineError,
  scrubSecrets,
  type PipelineError,
} from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Routes kafkajs's own log lines into our pino logger, so broker disconnects,
 * rebalances and retries appear in the same structured stream as our events
 * instead of on kafkajs's console logger.
 */
export function pinoLogCreator(logger: GrantLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      // kafkajs repeats its own timestamp and logger name; pino has both already.
      const {
        message,
        timestamp: _t,
        logger: _l,
        ...extra
      } = log as typeof log & { logger?: string };
      const method = PINO_LEVEL[level] ?? 'info';
      logger[method]({ kafkajs: namespace, ...extra }, message);
    };
}

/** Maps a pino level to the kafkajs level that keeps the same verbosity. */
function kafkaLevelFor(logger: GrantLogger): logLevel {
  switch (logger.level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'silent':
      return logLevel.NOTHING;
    default:
      return logLevel.ERROR;
  }
}

/**
 * Node TLS options of a {@link TlsConfig}: the CA, client certificate and key
 * read from their files. Verification stays on (Node's default), the
 * certificate's name checked against the host dialled or `serverName`.
 */
export function tlsOptionsOf(tls: TlsConfig): ConnectionOptions {
  return {
    rejectUnauthorized: true,
    ...(tls.caFile ? { ca: [readFileSync(tls.caFile)] } : {}),
    ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
    ...(tls.keyPassphrase ? { passphrase: tls.keyPassphrase.reveal() } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
  };
}

/**
 * kafkajs SASL options of a {@link SaslConfig}. The password (or token) is a
 * getter read at each authentication, not a copy: kafkajs authenticates every
 * new connection with the same options object, so a rotated Secret file is
 * used by the next connection without a restart.
 */
function saslOptionsOf(sasl: SaslConfig): SASLOptions {
  if (sasl.mechanism === 'oauthbearer') {
    const token = sasl.token;
    return {
      mechanism: 'oauthbearer',
      oauthBearerProvider: () => Promise.resolve({ value: token.reveal() }),
    };
  }
  const { password } = sasl;
  const options = { mechanism: sasl.mechanism, username: sasl.username };
  Object.defineProperty(options, 'password', { get: () => password.reveal(), enumerable: false });
  return options as SASLOptions;
}

/**
 * The client options of the connection's security settings: the single place
 * where `kafka.tls` and `kafka.sasl` become the Kafka client's own options, so
 * replacing the client means rewriting this function, not the configuration.
 */
export function kafkaSecurityOptions(
  config: Pick<KafkaConnectionConfig, 'tls' | 'sasl'>,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ...(config.tls ? { ssl: tlsOptionsOf(config.tls) } : {}),
    ...(config.sasl ? { sasl: saslOptionsOf(config.sasl) } : {}),
  };
}

/** Error codes Node gives a TLS handshake that failed on trust, not on the network. */
const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
]);

/** Broker refusals of the principal (an ACL is missing), by the broker's error type. */
export const AUTHORIZATION_REFUSALS: ReadonlySet<string> = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

const MAX_CAUSE_DEPTH = 8;

/**
 * The security failure behind a client error, as a named, non-retriable
 * PipelineError: a refused ACL (KafkaAuthorizationError), refused credentials
 * (KafkaAuthenticationError) or an untrusted certificate (TlsTrustError).
 * Null for anything else (outages, timeouts, record refusals). The client
 * wraps errors (a retrier keeps the first as `cause`), so the chain is walked.
 */
export function kafkaSecurityFailureOf(err: unknown): PipelineError | null {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth += 1) {
    if (
      current instanceof KafkaAuthorizationError ||
      current instanceof KafkaAuthenticationError ||
      current instanceof TlsTrustError
    )
      return current;
    const { type, code } = current as { type?: unknown; code?: unknown };
    if (typeof type === 'string' && AUTHORIZATION_REFUSALS.has(type))
      return new KafkaAuthorizationError(
        type,
        `the broker refused this principal (${type}): it has no ACL for this operation; see docs/operations.md, "What each principal may do"`,
        { cause: current },
      );
    if (current.name === 'KafkaJSSASLAuthenticationError' || type === 'SASL_AUTHENTICATION_FAILED')
      return new KafkaAuthenticationError(
        `the broker refused this client's credentials: ${scrubSecrets(current.message)}`,
        { cause: current },
      );
    if (typeof code === 'string' && TLS_TRUST_CODES.has(code))
      return new TlsTrustError(
        `the broker's certificate is not trusted (${code}): ${current.message}`,
        {
          cause: current,
        },
      );
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * One TLS handshake with a bootstrap broker, bounded by `timeoutMs`. A trust
 * failure rejects with a {@link TlsTrustError}; anything else (refused,
 * unreachable, timed out) resolves, leaving outages to the client's own
 * connection retries. Without it an untrusted certificate reads as a network
 * error the client retries for its whole retry budget.
 */
export function checkTlsTrust(
  address: string,
  options: ConnectionOptions,
  timeoutMs: number,
): Promise<void> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ...options });
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(), timeoutMs);
    socket.once('secureConnect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (TLS_TRUST_CODES.has(code))
        done(
          new TlsTrustError(
            `the certificate of ${address} is not trusted (${code}): ${err.message}`,
            { cause: err, metadata: { broker: address } },
          ),
        );
      else done();
    });
  });
}

type Connectable = Admin | Producer | Consumer;

/**
 * The kafkajs client with two checks before every connect: the bootstrap
 * brokers' certificates are trusted (see {@link checkTlsTrust}), and a
 * security failure of the connect comes out as the named error of
 * {@link kafkaSecurityFailureOf}, so a wrong password or an untrusted
 * certificate fails at once, clearly, instead of after every retry.
 */
class CheckedKafka extends Kafka {
  private trusted: Promise<void> | null = null;

  constructor(
    config: KafkaConfig,
    private readonly connection: KafkaConnectionConfig,
  ) {
    super(config);
  }

  override admin(config?: AdminConfig): Admin {
    return this.checked(super.admin(config));
  }

  override producer(config?: ProducerConfig): Producer {
    return this.checked(super.producer(config));
  }

  override consumer(config: ConsumerConfig): Consumer {
    return this.checked(super.consumer(config));
  }

  private trust(): Promise<void> {
    const { tls, brokers, connectionTimeoutMs } = this.connection;
    if (!tls) return Promise.resolve();
    // One check per process while it passes; a failure is checked again next time.
    this.trusted ??= (async () => {
      const options = tlsOptionsOf(tls);
      for (const broker of brokers) await checkTlsTrust(broker, options, connectionTimeoutMs);
    })().catch((err: unknown) => {
      this.trusted = null;
      throw err;
    });
    return this.trusted;
  }

  private checked<C extends Connectable>(client: C): C {
    const connect = client.connect.bind(client);
    client.connect = async () => {
      await this.trust();
      try {
        await connect();
      } catch (err) {
        throw kafkaSecurityFailureOf(err) ?? err;
      }
    };
    return client;
  }
}

/** Builds the kafkajs client from validated connection config; the only place a `Kafka` is made. */
export function createKafka(config: KafkaConnectionConfig, logger: GrantLogger): Kafka {
  const kafkaConfig: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: {
      retries: config.retry.retries,
      initialRetryTime: config.retry.initialRetryTimeMs,
      maxRetryTime: config.retry.maxRetryTimeMs,
    },
    ...kafkaSecurityOptions(config),
    logLevel: kafkaLevelFor(logger),
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
  };
  return new CheckedKafka(kafkaConfig, config);
}

/** True when `err` is one of the named security failures (never worth a retry). */
export function isKafkaSecurityFailure(err: unknown): boolean {
  return isPipelineError(err) && kafkaSecurityFailureOf(err) !== null;
}
