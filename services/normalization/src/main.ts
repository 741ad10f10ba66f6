import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { runStage } from '@grantstream/kafka';
import { loadRulePacks } from '@grantstream/rules';
import { loadNormalizationConfig } from './normalization.config';
import { NormalizationModule } from './normalization.module';

const config = loadNormalizationConfig(process.env);
const packs = orExitOnConfigError(() => loadRulePacks(config.rules.packDir));
runStage({
  stage: 'normalization',
  config,
  runner: stageRunnerConfig(config.runner, config.normalization.runner),
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
