import 'reflect-metadata';
import { GRANTSTREAM_VERSION, stageRunnerConfig } from '@grantstream/config';
import { createPlatformClients, deadLetterAuditHook, runStageService } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { loadRulePacks } from '@grantstream/rules';
import { loadRoutingConfig } from './routing.config';
import { RoutingModule } from './routing.module';

async function main(): Promise<void> {
  const config = loadRoutingConfig(process.env);
  const service = {
    stage: 'routing',
    name: 'grantstream-routing',
    version: GRANTSTREAM_VERSION,
  };
  const logger = createLogger({
    service: service.name,
    version: service.version,
    level: config.logging.level,
  });
  const packs = loadRulePacks(config.rules.packDir);
  const clients = createPlatformClients(config, logger);
  await runStageService({
    module: RoutingModule.forRoot({
      packs,
      service,
      now: Date.now,
    }),
    service,
    config: stageRunnerConfig(config.runner, config.routing.runner),
    metrics: config.routing.metrics,
    clients,
    logger,
    onDeadLetter: deadLetterAuditHook({ service, startsTrail: false }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`routing failed to start: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
