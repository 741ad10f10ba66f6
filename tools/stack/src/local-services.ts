import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import {
  PIPELINE_STAGES,
  SERVICE_DECLARATIONS,
  serviceDeclaration,
  type PipelineStageName,
  type ServiceName,
} from '@grantstream/contracts';
import { startStages, type StageProcess } from '@grantstream/harness';
import { listenersInUse } from './ports';

const endpoint = z.object({ metrics: z.object({ host: z.string(), port: z.number() }) });

/** The simulator, started first and apart: the stages need its tokens and its portals. */
const SIMULATOR = 'funder-simulator';

/**
 * The services of schemas/pipeline.yaml besides the stages and the simulator
 * (kind `service`): the checkpointer today. The main job starts them beside
 * the stages and waits for each one's probe.
 */
export const SIDE_SERVICES: readonly ServiceName[] = SERVICE_DECLARATIONS.filter(
  (s) => s.kind === 'service' && s.name !== SIMULATOR,
).map((s) => s.name);

/** What the main job reads of the checkpointer's section: its log's topics, origin and key file. */
const checkpointerLogSchema = z.object({
  origin: z.string(),
  topics: z.object({ audit: z.string(), order: z.string(), checkpoints: z.string() }),
  maxNoteBytes: z.number(),
  maxBatchEntries: z.number(),
  signingKey: z.object({
    file: z
      .string()
      .transform((p) =>
        p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : resolve(p),
      ),
  }),
});

/**
 * What a local run needs of the configuration besides the platform: the
 * simulator's fake tokens, handed to the services as the secrets the funders'
 * config names; the webhook sink notifications go to; and where each stage
 * service serves /metrics (the section schemas/pipeline.yaml names for it).
 */
const localServicesSchema = z
  .object({
    simulator: z.object({
      host: z.string(),
      port: z.number(),
      funders: z.record(z.string(), z.object({ token: z.string() })),
    }),
    funders: z.record(z.string(), z.object({ tokenSecret: z.string() })),
    notification: z.object({ webhook: z.object({ url: z.string() }) }),
    checkpointer: checkpointerLogSchema,
  })
  .and(
    z.object(
      Object.fromEntries(
        [...PIPELINE_STAGES, ...SIDE_SERVICES].map((name) => [
          serviceDeclaration(name).configSection,
          endpoint,
        ]),
      ),
    ),
  )
  // Sections stay whole: notification is a stage section (metrics) and the webhook's too.
  .transform((sections) => ({
    simulator: sections.simulator,
    funders: sections.funders,
    notification: sections.notification,
    checkpointer: {
      ...sections.checkpointer,
      signingKeyFile: sections.checkpointer.signingKey.file,
    },
    /** Where each side service serves its metrics and probe. */
    sideMetrics: Object.fromEntries(
      SIDE_SERVICES.map((name) => [
        name,
        (sections[serviceDeclaration(name).configSection] as z.infer<typeof endpoint>).metrics,
      ]),
    ) as Record<ServiceName, { host: string; port: number }>,
    metrics: Object.fromEntries(
      PIPELINE_STAGES.map((stage) => [
        stage,
        (sections[serviceDeclaration(stage).configSection] as z.infer<typeof endpoint>).metrics,
      ]),
    ) as Record<PipelineStageName, { host: string; port: number }>,
  }));

/** The local services' configuration (see {@link loadLocalServices}). */
export type LocalServices = z.infer<typeof localServicesSchema>;

/** Reads the local services' configuration from the default file and the environment. */
export function loadLocalServices(): LocalServices {
  return loadConfig({
    schema: localServicesSchema,
    files: [DEFAULT_CONFIG_FILE],
    env: process.env,
  });
}

/** Where a stage serves /metrics in the local configuration. */
export function metricsUrlOf(local: LocalServices, stage: PipelineStageName): string {
  const metrics = local.metrics[stage];
  return `http://${metrics.host}:${metrics.port}/metrics`;
}

/** The simulator's base URL in the local configuration. */
export function simulatorUrlOf(local: LocalServices): string {
  return `http://${local.simulator.host}:${local.simulator.port}`;
}

/**
 * Starts the funder simulator and `stages` on the local stack, each stage
 * with the simulator's tokens for the funders' secrets and `env` (consumer
 * groups, roots) on top. Refuses to start when another process holds one of
 * their fixed ports: ours would exit at once and the run would silently
 * follow the other run's processes instead. Returns every process started,
 * the simulator first; stop them with stopStages.
 */
export async function startLocalServices(
  local: LocalServices,
  stages: readonly PipelineStageName[],
  options: {
    logDir: string;
    env: Record<string, string>;
    readyTimeoutMs: number;
    /** Overrides of one stage besides `env` (the secured main job: each stage's own principal). */
    envOf?: (stage: PipelineStageName) => Record<string, string>;
  },
): Promise<StageProcess[]> {
  const busy = await listenersInUse([
    { name: 'funder-simulator', host: local.simulator.host, port: local.simulator.port },
    ...stages.map((stage) => ({ name: `${stage} metrics`, ...local.metrics[stage] })),
  ]);
  if (busy.length > 0) {
    throw new Error(
      `another process (a concurrent main job or a left-over stage) listens on ${busy.map((b) => `${b.host}:${b.port} (${b.name})`).join(', ')}: stop it or wait for it, then run again`,
    );
  }
  const tokens: Record<string, string> = {};
  for (const [funderId, funder] of Object.entries(local.funders)) {
    const sim = local.simulator.funders[funderId];
    if (sim) tokens[funder.tokenSecret] = sim.token;
  }
  const started = startStages(['funder-simulator'], { logDir: options.logDir });
  await waitForHttp(`${simulatorUrlOf(local)}/__sim/stats`, options.readyTimeoutMs);
  const envOf = options.envOf;
  started.push(
    ...(envOf
      ? stages.flatMap((stage) =>
          startStages([stage], {
            logDir: options.logDir,
            env: { ...tokens, ...options.env, ...envOf(stage) },
          }),
        )
      : startStages(stages, { logDir: options.logDir, env: { ...tokens, ...options.env } })),
  );
  return started;
}

/**
 * Starts the side services (see {@link SIDE_SERVICES}) with `env` on top of
 * the configuration and resolves once each answers its declared probe.
 * Refuses, like {@link startLocalServices}, when another process holds one of
 * their ports; fails at once when one exits before it is ready.
 */
export async function startSideServices(
  local: LocalServices,
  options: {
    logDir: string;
    env: Record<string, string>;
    readyTimeoutMs: number;
    /** Overrides for one service on top of `env` (its principal's credentials on a secured stack). */
    envOf?: (service: ServiceName) => Record<string, string>;
  },
): Promise<StageProcess[]> {
  const busy = await listenersInUse(
    SIDE_SERVICES.map((name) => ({ name, ...local.sideMetrics[name] })),
  );
  if (busy.length > 0) {
    throw new Error(
      `another process listens on ${busy.map((b) => `${b.host}:${b.port} (${b.name})`).join(', ')}: stop it or wait for it, then run again`,
    );
  }
  const started = SIDE_SERVICES.flatMap((name) =>
    startStages([name], {
      logDir: options.logDir,
      env: { ...options.env, ...options.envOf?.(name) },
    }),
  );
  for (const p of started) {
    const { host, port } = local.sideMetrics[p.name];
    await waitForHttp(
      `http://${host}:${port}${serviceDeclaration(p.name).probe}`,
      options.readyTimeoutMs,
      () => (p.child.exitCode === null ? null : `${p.name} exited (log ${p.logFile})`),
    );
  }
  return started;
}

/** Waits until `url` answers (the simulator listening). */
async function waitForHttp(
  url: string,
  timeoutMs: number,
  gone: () => string | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why !== null) throw new Error(`${url} will not answer: ${why}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
