import { createLogger } from '@grantstream/logging';
import { createSimulator } from './http/simulator';
import { loadSimulatorConfig } from './simulator.config';

async function main(): Promise<void> {
  const config = loadSimulatorConfig(process.env);
  const log = createLogger({ service: 'funder-simulator', level: config.logging.level });
  const simulator = createSimulator(config.simulator, { logger: log });
  const { url } = await simulator.listen();
  log.info(
    { url, funders: Object.keys(config.simulator.funders).map((f) => simulator.baseUrl(f)) },
    'funder simulator listening',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'funder simulator stopping');
    simulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'funder simulator failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`funder simulator failed to start: ${String(err)}\n`);
  process.exit(1);
});
