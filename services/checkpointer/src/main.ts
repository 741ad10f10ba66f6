import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { NestFactory } from '@nestjs/core';
import { GRANTSTREAM_VERSION, orExitOnConfigError } from '@grantstream/config';
import {
  StageHealth,
  closeOnSignals,
  createPlatformClients,
  serveMetrics,
} from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { DirectoryWitnessStore } from '@grantstream/storage';
import { Checkpointer } from './checkpointer';
import { loadCheckpointerConfig } from './checkpointer.config';
import { CheckpointerMetrics } from './checkpointer-metrics';
import { CheckpointerModule } from './checkpointer.module';
import { loadLogKey } from './signing-key';

/** Exit status when the log cannot be continued without forking it (an operator must look). */
const EXIT_LOG_CORRUPT = 3;

async function main(): Promise<void> {
  const config = loadCheckpointerConfig(process.env);
  const c = config.checkpointer;
  const logger = createLogger({
    service: 'grantstream-checkpointer',
    version: GRANTSTREAM_VERSION,
    level: config.logging.level,
  });
  // A missing or unreadable key is a configuration problem: printed, exit 2.
  const key = await loadLogKey(c.origin, c.signingKey.file, c.signingKey.createIfMissing).catch(
    (err: unknown) =>
      orExitOnConfigError(() => {
        throw err;
      }),
  );
  // The verifier key is public: logged so an operator can hand it to auditors.
  logger.info(
    { verifierKey: key.verifierKey, created: key.created },
    'checkpointer signing key loaded',
  );
  const clients = createPlatformClients(config, logger);
  const checkpointer = new Checkpointer({
    kafka: clients.kafka,
    serde: clients.serde,
    logger,
    config: c,
    signer: key.signer,
    verifier: key.verifier,
    witness: new DirectoryWitnessStore(c.witness.dir),
    now: Date.now,
  });
  const metrics = new CheckpointerMetrics();
  metrics.observe(checkpointer);
  const health = new StageHealth({
    timeoutMs: c.shutdownGraceMs,
    checks: {
      broker: async () => {
        await clients.admin.connect();
        await clients.admin.describeCluster();
        return true;
      },
      registry: async () => (await fetch(`${config.registry.url}/subjects`)).ok,
    },
  });
  // Ready once the lease group is joined, active or standby: both are doing their job.
  const membership = new EventEmitter();
  health.observe(membership);
  const server = await serveMetrics(metrics.registry, c.metrics, logger, health);
  const app = await NestFactory.createApplicationContext(CheckpointerModule.forRoot(checkpointer), {
    logger: false,
  });
  membership.emit('groupJoined');
  const closable = {
    close: async () => {
      await app.close();
      await clients.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  closeOnSignals(closable, { logger });
  checkpointer.on('failed', ({ error, final }) => {
    if (!final) return;
    logger.fatal({ err: error }, 'checkpointer exiting: the log cannot be continued');
    void closable
      .close()
      .catch(() => undefined)
      .finally(() => {
        logger.flush();
        process.exit(EXIT_LOG_CORRUPT);
      });
  });
  logger.info({ origin: c.origin, lease: c.leaseGroupId }, 'checkpointer waiting for the lease');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `grantstream-checkpointer failed to start: ${String((err as Error).stack ?? err)}\n`,
  );
  process.exit(1);
});
