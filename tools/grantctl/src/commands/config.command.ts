import type { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  describeKafkaSecurity,
  describeRegistrySecurity,
  loadGrantstreamConfig,
} from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { configFiles } from './context';

/** Exit status of `config check` when the configuration is invalid. */
export const CONFIG_INVALID_EXIT = 2;

/**
 * `grantctl config check`: validates the configuration and prints every problem at
 * once; a valid one is followed by the Kafka and registry security modes in effect.
 */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Configuration');
  config
    .command('check')
    .description(
      'validate config files and GRANTSTREAM__* overrides; exits 2 listing every problem',
    )
    .action((_opts: unknown, cmd: Command) => {
      const extra = configFiles(cmd);
      try {
        const loaded = loadGrantstreamConfig(process.env, extra);
        process.stdout.write(
          `configuration valid (${[DEFAULT_CONFIG_FILE, ...extra].join(', ')})\n`,
        );
        // Which security mode is in effect, and where each secret comes from, never its value.
        process.stdout.write(`kafka:    ${describeKafkaSecurity(loaded.kafka)}\n`);
        process.stdout.write(`registry: ${describeRegistrySecurity(loaded.registry)}\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = CONFIG_INVALID_EXIT;
      }
    });
}
