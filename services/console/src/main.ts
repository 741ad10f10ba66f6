import 'reflect-metadata';
import { createLogger } from '@grantstream/logging';
import { startConsole } from './console-app';
import { loadConsoleConfig } from './console.config';

async function main(): Promise<void> {
  const config = loadConsoleConfig(process.env);
  const log = createLogger({ service: 'console', level: config.logging.level });
  const running = await startConsole(config, log);
  process.stdout.write(`grantstream console: ${running.url}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'console stopping');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'console failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `console failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
