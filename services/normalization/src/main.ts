import 'reflect-metadata';
import { GRANTSTREAM_VERSION, stageRunnerConfig } from '@grantstream/config';
import { createPlatformClients, deadLetterAuditHook, runStageService } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { loadRulePacks } from '@grantstream/rules';
import { loadNormalizationConfig } from './normalization.config';
import { NormalizationModule } from './normalization.module';

async function main(): Promise<void> {
  const config = loadNormalizationConfig(process.env);
  const service = {
    stage: 'normalization',
    name: 'grantstream-normalization',
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
    module: NormalizationModule.forRoot({
      packs,
      normalizerVersion: config.normalization.normalizerVersion,
      service,
      now: Date.now,
    }),
    service,
    config: stageRunnerConfig(config.runner, config.normalization.runner),
    metrics: config.normalization.metrics,
    clients,
    logger,
    onDeadLetter: deadLetterAuditHook({ service, startsTrail: false }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`normalization failed to start: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
