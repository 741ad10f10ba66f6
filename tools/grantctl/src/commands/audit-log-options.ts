import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { GrantstreamConfig } from '@grantstream/config';
import { TOPICS } from '@grantstream/contracts';
import type { LogLocations, LogReadLimits } from '../audit/log-sources';
import type { LogCheckOptions } from '../audit/verify-audit';
import { collect } from './arguments';

/** Options every command reading the Merkle log shares. */
export interface LogCommandOptions {
  /** The audit topic (prove reads only the order and checkpoint topics). */
  topic?: string;
  orderTopic: string;
  checkpointTopic: string;
  witness?: string;
  verifierKey: string[];
}

/** The Merkle log's options, shared by verify, prove and export. */
export function withLogOptions(command: Command): Command {
  return command
    .option('--order-topic <name>', 'order topic of the Merkle log', TOPICS.AUDIT_LOG_ORDER)
    .option(
      '--checkpoint-topic <name>',
      'checkpoint topic of the Merkle log',
      TOPICS.AUDIT_CHECKPOINTS,
    )
    .option('--witness <dir>', 'witness store directory (default audit.log.witnessDir)')
    .option(
      '--verifier-key <key>',
      'trusted verifier key, added to audit.log.verifierKeys (repeatable)',
      collect,
      [],
    );
}

export function locationsOf(opts: LogCommandOptions, config: GrantstreamConfig): LogLocations {
  // The configured default is the local checkpointer's directory, which does
  // not exist before it first ran; a directory named on the command line must.
  const configured = configuredWitnessApplies(opts) ? config.audit.log.witnessDir : null;
  return {
    audit: opts.topic ?? TOPICS.AUDIT,
    order: opts.orderTopic,
    checkpoints: opts.checkpointTopic,
    witnessDir: opts.witness ?? (configured !== null && existsSync(configured) ? configured : null),
  };
}

/**
 * The verifier keys of audit.log.verifierKeyFiles, one per file (its first
 * non-empty line), read now: the files hold public keys the checkpointer
 * wrote, so the configuration names a path instead of carrying the key.
 * Files that do not exist are returned apart, to be named if no key is left.
 */
export function readVerifierKeyFiles(files: readonly string[]): {
  keys: string[];
  unread: string[];
} {
  const keys: string[] = [];
  const unread: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      unread.push(file);
      continue;
    }
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '');
    if (line === undefined) unread.push(file);
    else keys.push(line);
  }
  return { keys, unread };
}

export function readLimitsOf(config: GrantstreamConfig): LogReadLimits {
  const { maxBytesPerFetch, maxWaitMs, maxEmptyFetches, log } = config.audit;
  return {
    maxBytesPerFetch,
    maxWaitMs,
    maxEmptyFetches,
    origin: log.origin,
    maxBatchEntries: log.maxBatchEntries,
    maxNoteBytes: log.maxNoteBytes,
    maxWitnessFiles: log.maxWitnessFiles,
  };
}

/**
 * Whether the configured key files and witness directory (the local stack's
 * log over grants.audit.v1) concern this command: not when it reads another
 * audit topic against the default order and checkpoint topics, a log that
 * never covered that topic. Keys given with --verifier-key or in
 * audit.log.verifierKeys apply whatever the topics.
 */
function configuredLogApplies(opts: LogCommandOptions): boolean {
  const otherAudit = opts.topic !== undefined && opts.topic !== TOPICS.AUDIT;
  const defaultLog =
    opts.orderTopic === TOPICS.AUDIT_LOG_ORDER && opts.checkpointTopic === TOPICS.AUDIT_CHECKPOINTS;
  return !(otherAudit && defaultLog);
}

/**
 * Whether the configured witness directory (the local checkpointer's copies
 * of the checkpoints on the default checkpoint topic) concerns this command:
 * only when it reads the default log over the default audit topic. A log
 * kept on other order or checkpoint topics has checkpoints of its own, and
 * another log's copies would be judged against it; --witness names one.
 */
function configuredWitnessApplies(opts: LogCommandOptions): boolean {
  const defaultAudit = opts.topic === undefined || opts.topic === TOPICS.AUDIT;
  return (
    defaultAudit &&
    opts.orderTopic === TOPICS.AUDIT_LOG_ORDER &&
    opts.checkpointTopic === TOPICS.AUDIT_CHECKPOINTS
  );
}

export function logCheckOptionsOf(
  opts: LogCommandOptions,
  config: GrantstreamConfig,
): LogCheckOptions {
  const { log } = config.audit;
  const fromFiles = configuredLogApplies(opts)
    ? readVerifierKeyFiles(log.verifierKeyFiles)
    : { keys: [], unread: [] };
  return {
    verifierKeys: [...new Set([...log.verifierKeys, ...fromFiles.keys, ...opts.verifierKey])],
    unreadKeyFiles: fromFiles.unread,
    origin: log.origin,
    maxBatchEntries: log.maxBatchEntries,
    maxNoteBytes: log.maxNoteBytes,
    maxSignatures: log.maxSignatures,
    bucketRecords: log.bucketRecords,
    spillBufferBytes: log.spillBufferBytes,
    maxFindingsListed: log.maxFindingsListed,
  };
}
