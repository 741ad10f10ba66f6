import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { runStage } from '@grantstream/kafka';
import { configureZonedDateCache, loadRulePacks } from '@grantstream/rules';
import { loadNormalizationConfig } from './normalization.config';
import { NormalizationModule } from './normalization.module';

const config = loadNormalizationConfig(process.env);
const packs = orExitOnConfigError(() => loadRulePacks(config.rules.packDir));
if (config.rules.zonedDates) configureZonedDateCache(config.rules.zonedDates);
// A runner whose worst case in flight cannot fit the memory budget refuses to start.
const runner = orExitOnConfigError(() =>
  stageRunnerConfig(config.runner, config.normalization.runner),
);
runStage({
  stage: 'normalization',
  config,
  runner,
  metrics: config.normalization.metrics,
  module: ({ service }) =>
    NormalizationModule.forRoot({
      packs,
      normalizerVersion: config.normalization.normalizerVersion,
      service,
      now: Date.now,
    }),
  deadLetters: { startsTrail: false },
});
