import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { registeredSecretCount, scrubSecrets } from '@grantstream/errors';

/** A structured logger; every service and lib logs through one of these. */
export type GrantLogger = Logger;

/** Levels accepted in configuration. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths whose values never reach a log line. Secrets (tokens, passwords, keys,
 * auth headers) and payload bodies: applications carry applicant data that
 * logs must not copy. Wildcards cost throughput, so the list stays short and
 * targeted at the shapes our code logs.
 */
export const REDACTED_PATHS: readonly string[] = [
  'password',
  'token',
  'secret',
  'apiKey',
  'authorization',
  'payload',
  'value',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  '*.Authorization',
  '*.payload',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'sasl.password',
  '*.sasl.password',
  'oauthBearerToken',
  '*.auth.password',
  '*.auth.token',
  'passphrase',
  '*.passphrase',
];

/**
 * Wraps a destination so every line is scrubbed of the process's registered
 * secrets (libs/errors registerSecret) before it is written: redaction paths
 * cover the shapes we log on purpose, this covers a secret that reaches a
 * line any other way (an error message, a URL, a header echoed by a server).
 */
export function scrubbingDestination(destination: DestinationStream): DestinationStream {
  const target = destination as DestinationStream & {
    flush?: (cb?: (err?: Error) => void) => void;
    flushSync?: () => void;
  };
  return {
    write: (line: string) => target.write(registeredSecretCount() > 0 ? scrubSecrets(line) : line),
    ...(target.flush ? { flush: (cb?: (err?: Error) => void) => target.flush?.(cb) } : {}),
    ...(target.flushSync ? { flushSync: () => target.flushSync?.() } : {}),
  };
}

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service or tool name, stamped on every line as `service`. */
  service: string;
  /** Service version, stamped on every line as `version`. */
  version?: string;
  level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a stream to read lines back. */
  destination?: DestinationStream;
}

/** Creates the root logger of a process, with redaction and service identity. */
export function createLogger(options: CreateLoggerOptions): GrantLogger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, ...(options.version ? { version: options.version } : {}) },
    redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(pinoOptions, scrubbingDestination(destination));
}
