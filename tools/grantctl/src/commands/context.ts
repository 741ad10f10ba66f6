import type { Command } from 'commander';
import { loadGrantstreamConfigOrExit, type GrantstreamConfig } from '@grantstream/config';
import { createLogger, type GrantLogger } from '@grantstream/logging';

/** Config files named by the global `--config` option (applied after the default file). */
export function configFiles(cmd: Command): string[] {
  return cmd.optsWithGlobals<{ config: string[] }>().config;
}

/** Loads configuration for a command (exits 2 listing every problem) and its logger. */
export function commandContext(cmd: Command): { config: GrantstreamConfig; log: GrantLogger } {
  const config = loadGrantstreamConfigOrExit(process.env, configFiles(cmd));
  // Logs go to stderr so stdout stays a clean report that scripts can parse.
  const log = createLogger({
    service: 'grantctl',
    level: config.logging.level === 'info' ? 'warn' : config.logging.level,
    destination: process.stderr,
  });
  return { config, log };
}
