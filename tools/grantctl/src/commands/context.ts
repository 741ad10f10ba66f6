import type { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  grantstreamConfigSchema,
  loadConfigOrExit,
  type GrantstreamConfig,
} from '@grantstream/config';
import { createLogger, type GrantLogger } from '@grantstream/logging';

/** Config files named by the global `--config` option, after the default file. */
export function configFiles(cmd: Command): string[] {
  const { config } = cmd.optsWithGlobals<{ config: string[] }>();
  return [DEFAULT_CONFIG_FILE, ...config];
}

/** Loads configuration for a command (exits 2 listing every problem) and its logger. */
export function commandContext(cmd: Command): { config: GrantstreamConfig; log: GrantLogger } {
  const config = loadConfigOrExit({
    schema: grantstreamConfigSchema,
    files: configFiles(cmd),
    env: process.env,
  });
  // Logs go to stderr so stdout stays a clean report that scripts can parse.
  const log = createLogger({
    service: 'grantctl',
    level: config.logging.level === 'info' ? 'warn' : config.logging.level,
    destination: process.stderr,
  });
  return { config, log };
}
