import type { Command } from 'commander';
import { TOPIC_DECLARATIONS } from '@grantstream/contracts';
import {
  applyDeclaredTopics,
  createPlatformClients,
  topicSpecsOf,
  type ApplyTopicsReport,
} from '@grantstream/kafka';
import { commandContext } from './context';

/** Exit status of `topics apply` when drift remains that this run did not fix. */
export const DRIFT_EXIT = 3;

/** Human-readable report of an apply. */
export function formatApplyReport(report: ApplyTopicsReport): string {
  const lines: string[] = [];
  for (const t of report.created) lines.push(`created   ${t}`);
  for (const t of report.inSync) lines.push(`in sync   ${t}`);
  const fixed = new Set(report.fixed);
  for (const d of report.drift) {
    const state = fixed.has(d) ? 'fixed' : d.fixable ? 'drift' : 'drift (not fixable)';
    lines.push(
      `${state.padEnd(9)} ${d.topic} ${d.field}: declared ${d.declared}, cluster has ${d.actual}`,
    );
  }
  for (const s of report.schemas) lines.push(`schema    ${s.subject} id ${s.id}`);
  const unresolved = report.drift.length - report.fixed.length;
  lines.push(
    `${report.created.length} created, ${report.inSync.length} in sync, ${report.drift.length} drift (${report.fixed.length} fixed), ${report.schemas.length} schemas registered` +
      (unresolved > 0
        ? ` — ${unresolved} drift unresolved: rerun with --fix-drift or change schemas/topics.yaml`
        : ''),
  );
  return `${lines.join('\n')}\n`;
}

/** `grantctl topics apply`: create missing topics, register value schemas, report drift. */
export function registerTopicsCommands(program: Command): void {
  const topics = program.command('topics').description('Topics declared in schemas/topics.yaml');
  topics
    .command('apply')
    .description(
      `create missing topics, register their value schemas and report drift (idempotent); exits ${DRIFT_EXIT} while drift remains`,
    )
    .option('--fix-drift', 'alter configs and add partitions to match the declarations')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { fixDrift?: boolean; json?: boolean }, cmd: Command) => {
      const { config, log } = commandContext(cmd);
      const clients = createPlatformClients(config, log);
      try {
        const report = await applyDeclaredTopics(
          clients,
          config,
          topicSpecsOf(TOPIC_DECLARATIONS),
          Boolean(opts.fixDrift),
        );
        process.stdout.write(
          opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatApplyReport(report),
        );
        if (report.drift.length > report.fixed.length) process.exitCode = DRIFT_EXIT;
      } finally {
        await clients.close();
      }
    });
}
