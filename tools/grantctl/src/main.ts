import { Command } from 'commander';
import { isPipelineError } from '@grantstream/errors';
import { registerAuditCommands } from './commands/audit.command';
import { registerConfigCommands } from './commands/config.command';
import { registerDlqCommands } from './commands/dlq.command';
import { registerSubmitCommands } from './commands/submit.command';
import { registerTopicsCommands } from './commands/topics.command';

/** grantctl: what grant operations and ops run against the pipeline. */
export function buildProgram(): Command {
  const program = new Command('grantctl')
    .description('Operate grantstream: topics, configuration, batches, dead letters, audit')
    .option(
      '-c, --config <file>',
      'extra YAML config file, applied after config/grantstream.yaml (repeatable)',
      (file: string, previous: string[]) => [...previous, file],
      [] as string[],
    );
  registerTopicsCommands(program);
  registerConfigCommands(program);
  registerAuditCommands(program);
  registerSubmitCommands(program);
  registerDlqCommands(program);
  return program;
}

/**
 * Exits once everything written to stdout has been handed over: a pipe takes
 * writes asynchronously, and process.exit would cut a large report short
 * (`dlq show --json` of a multi-megabyte value).
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

buildProgram()
  .parseAsync(process.argv)
  .then(
    () => exitAfterFlush(Number(process.exitCode ?? 0)),
    (err: unknown) => {
      process.stderr.write(
        `grantctl: ${isPipelineError(err) ? err.message : String((err as Error).stack ?? err)}\n`,
      );
      exitAfterFlush(1);
    },
  );
