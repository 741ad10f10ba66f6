import 'reflect-metadata';
import { orExitOnConfigError, stageRunnerConfig } from '@grantstream/config';
import { runStage } from '@grantstream/kafka';
import { configureZonedDateCache, loadRulePacks } from '@grantstream/rules';
import { loadRoutingConfig } from './routing.config';
import { RoutingModule } from './routing.module';

const config = loadRoutingConfig(process.env);
const packs = orExitOnConfigError(() => loadRulePacks(config.rules.packDir));
if (config.rules.zonedDates) configureZonedDateCache(config.rules.zonedDates);
// A runner whose worst case in flight cannot fit the memory budget refuses to start.
const runner = orExitOnConfigError(() => stageRunnerConfig(config.runner, config.routing.runner));
runStage({
  stage: 'routing',
  config,
  runner,
  metrics: config.routing.metrics,
  module: ({ service }) => RoutingModule.forRoot({ packs, service, now: Date.now }),
  deadLetters: { startsTrail: false },
});
