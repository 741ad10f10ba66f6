import {
  DEFAULT_CONFIG_FILE,
  grantstreamConfigSchema,
  loadConfig,
  loadConfigOrExit,
  type GrantstreamConfig,
} from '@grantstream/config';

/** The stack reads the whole configuration: platform settings plus its `stack:` section. */
export type StackConfig = GrantstreamConfig;

/** Loads the configuration (defaults + GRANTSTREAM_CONFIG files + env), exiting on problems. */
export function loadStackConfigOrExit(env: NodeJS.ProcessEnv, files: string[] = []): StackConfig {
  return loadConfigOrExit({
    schema: grantstreamConfigSchema,
    files: [DEFAULT_CONFIG_FILE, ...files],
    env,
  });
}

/** As {@link loadStackConfigOrExit}, throwing a ConfigError instead of exiting. */
export function loadStackConfig(env: NodeJS.ProcessEnv, files: string[] = []): StackConfig {
  return loadConfig({
    schema: grantstreamConfigSchema,
    files: [DEFAULT_CONFIG_FILE, ...files],
    env,
  });
}
