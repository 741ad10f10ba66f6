import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadGrantstreamConfig } from '@grantstream/config';
import { ConfigError } from '@grantstream/errors';
import { configFiles } from './context';

/** Exit status of `config check` when the configuration is invalid. */
export const CONFIG_INVALID_EXIT = 2;

/** `grantctl config check`: validates the configuration and prints every problem at once. */
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
        loadGrantstreamConfig(process.env, extra);
        process.stdout.write(
          `configuration valid (${[DEFAULT_CONFIG_FILE, ...extra].join(', ')})\n`,
        );
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = CONFIG_INVALID_EXIT;
      }
    });
}
