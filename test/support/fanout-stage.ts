// A stage process for scenarios that kill or stop it: the fan-out test stage on
// the real runner, reporting each commit as a JSON line on stdout.
import { Command } from 'commander';
import {
  DEFAULT_CONFIG_FILE,
  grantstreamConfigSchema,
  loadConfigOrExit,
} from '@grantstream/config';
import { StageRunner, createPlatformClients } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { fanoutHandler, hopRunnerConfig } from './fanout';

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--input <topic>')
    .requiredOption('--output <topic>')
    .requiredOption('--dlq <topic>')
    .requiredOption('--group <id>')
    .requiredOption('--prefix <id>')
    .option('--fanout <n>', 'outputs per input', Number, 3)
    .option('--delay-ms <ms>', 'work per message', Number, 0)
    .parse(process.argv)
    .opts<{
      input: string;
      output: string;
      dlq: string;
      group: string;
      prefix: string;
      fanout: number;
      delayMs: number;
    }>();
  const config = loadConfigOrExit({
    schema: grantstreamConfigSchema,
    files: [DEFAULT_CONFIG_FILE],
    env: process.env,
  });
  const logger = createLogger({
    service: 'fanout-stage',
    level: config.logging.level,
    destination: process.stderr,
  });
  const clients = createPlatformClients(config, logger);
  const runner = new StageRunner({
    service: { stage: 'fanout', name: 'fanout-stage', version: '0.0.0' },
    config: hopRunnerConfig({
      input: o.input,
      output: o.output,
      dlq: o.dlq,
      group: o.group,
      prefix: o.prefix,
    }),
    kafka: clients.kafka,
    serde: clients.serde,
    handlers: [
      fanoutHandler({
        inputTopic: o.input,
        outputTopic: o.output,
        fanout: o.fanout,
        delayMs: o.delayMs,
      }),
    ],
    logger,
  });
  const report = (event: string, data: object) =>
    process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
  runner.on('committed', (c) => report('committed', c));
  runner.on('groupJoined', (g) => report('groupJoined', g));
  process.once('SIGTERM', () => {
    void runner.stop().then(() => {
      report('stopped', {});
      process.exit(0);
    });
  });
  await runner.start();
  report('started', {});
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
