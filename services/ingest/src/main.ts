import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { funderIdOrNull } from '@grantstream/contracts';
import { runStage } from '@grantstream/kafka';
import { loadRulePacks } from '@grantstream/rules';
import { AttachmentStores, FileAttachmentStore } from '@grantstream/storage';
import { INGEST_TOPIC_PATTERN_SETTING, loadIngestConfig } from './ingest.config';
import { IngestModule } from './ingest.module';

const config = loadIngestConfig(process.env);
const packs = orExitOnConfigError(() => loadRulePacks(config.rules.packDir));
const stores = orExitOnConfigError(
  () =>
    new AttachmentStores([
      new FileAttachmentStore({
        roots: config.ingest.storage.fileRoots,
        wholeReadMaxBytes: config.ingest.storage.wholeReadBytes,
      }),
    ]),
);
// A runner whose worst case in flight cannot fit the memory budget refuses to start.
const runner = orExitOnConfigError(() => stageRunnerConfig(config.runner, config.ingest.runner));
runStage({
  stage: 'ingest',
  config,
  runner,
  metrics: config.ingest.metrics,
  subscriptions: { [INGEST_TOPIC_PATTERN_SETTING]: new RegExp(config.ingest.topicPattern) },
  module: ({ service }) =>
    IngestModule.forRoot({
      validator: {
        stores,
        packs,
        limits: config.ingest.limits,
        sniffBytes: config.ingest.storage.sniffBytes,
        inspect: config.ingest.storage.inspect,
        now: Date.now,
      },
      service,
      consumerGroup: runner.groupId,
    }),
  deadLetters: {
    // Ingest starts every trail; a dead letter there records the pack of the funder it named.
    startsTrail: true,
    consumerGroup: runner.groupId,
    ruleSetVersion: (failure) => {
      const grantId = (failure.decoded as { grant_id?: string } | undefined)?.grant_id;
      const funder = grantId === undefined ? null : funderIdOrNull(grantId);
      return funder === null ? null : (packs.get(funder)?.version ?? null);
    },
  },
});
