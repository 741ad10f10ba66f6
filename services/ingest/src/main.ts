import 'reflect-metadata';
import { GRANTSTREAM_VERSION, stageRunnerConfig } from '@grantstream/config';
import { createPlatformClients, deadLetterAuditHook, runStageService } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { loadRulePacks } from '@grantstream/rules';
import { AttachmentStores, FileAttachmentStore } from '@grantstream/storage';
import { loadIngestConfig } from './ingest.config';
import { IngestModule } from './ingest.module';

async function main(): Promise<void> {
  const config = loadIngestConfig(process.env);
  const service = { stage: 'ingest', name: 'grantstream-ingest', version: GRANTSTREAM_VERSION };
  const logger = createLogger({
    service: service.name,
    version: service.version,
    level: config.logging.level,
  });
  const packs = loadRulePacks(config.rules.packDir);
  const stores = new AttachmentStores([
    new FileAttachmentStore({ roots: config.ingest.storage.fileRoots }),
  ]);
  const clients = createPlatformClients(config, logger);
  await runStageService({
    module: IngestModule.forRoot({
      validator: {
        stores,
        packs,
        limits: config.ingest.limits,
        sniffBytes: config.ingest.storage.sniffBytes,
        now: Date.now,
      },
      service,
    }),
    service,
    config: stageRunnerConfig(config.runner, config.ingest.runner),
    metrics: config.ingest.metrics,
    clients,
    logger,
    onDeadLetter: deadLetterAuditHook({
      service,
      startsTrail: true,
      ruleSetVersion: (failure) => {
        const decoded = failure.decoded as { grant_id?: string } | undefined;
        const funder = decoded?.grant_id?.split('-')[0];
        return funder ? (packs.get(funder)?.version ?? null) : null;
      },
    }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ingest failed to start: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
