import type { GrantstreamConfig } from '@grantstream/config';
import { serviceDeclaration, settingEnvName, type PipelineStageName } from '@grantstream/contracts';
import { startStages, stopStages, type StageProcess } from '@grantstream/harness';
import type { PlatformClients, StageRunner } from '@grantstream/kafka';
import { testClients, testConfig, uniqueName } from '../environment';
import { createScopedTopics, deleteScopedTopics } from './scoped-topics';
import { startServiceGroup, scenarioLogDir, type ServiceGroup } from './service-group';
import { freePort, startSimulator, type SimFunder, type Simulator } from './simulator';
import { waitForGroupJoined, waitForReady, waitUntil, type WaitOptions } from './waits';

/** A stage process the scenario started, with where it serves /metrics and its health. */
export interface ScenarioStage {
  stage: PipelineStageName;
  process: StageProcess;
  /** `http://127.0.0.1:<port>` of its metrics and health endpoints. */
  base: string;
}

/**
 * One integration scenario: its clients, log directory and names, and
 * everything it starts, stopped and deleted by {@link close}. Names (groups,
 * topic copies) carry the scenario's unique scope, so scenarios sharing the
 * broker never read each other's records; waits take their limits from the
 * configuration the stack runs with.
 *
 * ```ts
 * const s = await Scenario.open('retry-after');
 * const topics = await s.ownTopics([TOPICS.ROUTED]);
 * const [ingest] = await s.startStages(['ingest'], { env: { ... } });
 * await s.waitUntil('validated', () => seen.size === 10);
 * await s.close();
 * ```
 */
export class Scenario {
  private readonly processes: StageProcess[] = [];
  private readonly groups: ServiceGroup[] = [];
  private readonly runners: StageRunner[] = [];
  private readonly topicCopies: Map<string, string>[] = [];
  private simulator: Simulator | undefined;

  private constructor(
    /** The scenario's unique scope: a name segment no other scenario or run uses. */
    readonly scope: string,
    readonly config: GrantstreamConfig,
    readonly clients: PlatformClients,
    /** Where the processes it starts write their logs. */
    readonly logDir: string,
  ) {}

  /** Connects the clients and picks the scenario's scope and log directory. */
  static async open(name: string): Promise<Scenario> {
    const config = testConfig();
    const scope = uniqueName(name).replace(/[^A-Za-z0-9.-]/g, '-');
    return new Scenario(scope, config, await testClients(config), scenarioLogDir(name));
  }

  /** A name under the scenario's scope (a consumer group, a transactional id prefix). */
  name(prefix: string): string {
    return `${prefix}.${this.scope}`;
  }

  /**
   * The limits waits take by default: the stack's ready timeout, the bound
   * of anything that starts, joins or catches up in a scenario.
   */
  get limits(): WaitOptions {
    return { timeoutMs: this.config.stack.readyTimeoutMs };
  }

  /** The scenario's own copies of declared topics (see createScopedTopics), deleted by close. */
  async ownTopics(declared: readonly string[]): Promise<Map<string, string>> {
    const copies = await createScopedTopics(this.clients, declared, this.scope);
    this.topicCopies.push(copies);
    return copies;
  }

  /**
   * Starts stage services with `env` on top of the configuration, each on a
   * free metrics port, and resolves once each answers /health/ready (started,
   * joined, connected). Put them in groups of the scenario's own with `env`
   * (e.g. runScopedGroups).
   */
  async startStages(
    stages: readonly PipelineStageName[],
    options: { env?: Record<string, string> } = {},
  ): Promise<ScenarioStage[]> {
    const started: ScenarioStage[] = [];
    for (const stage of stages) {
      const port = await freePort();
      const declared = serviceDeclaration(stage);
      const [proc] = startStages([stage], {
        logDir: this.logDir,
        suffix: `-${this.scope}`,
        env: { ...options.env, [settingEnvName(declared.portSetting)]: String(port) },
      });
      if (!proc) throw new Error(`${stage} did not start`);
      this.processes.push(proc);
      started.push({ stage, process: proc, base: `http://127.0.0.1:${port}` });
    }
    for (const s of started) {
      await waitForReady(`${s.base}${serviceDeclaration(s.stage).probe}`, {
        ...this.limits,
        abort: () =>
          s.process.child.exitCode === null ? null : `${s.stage} exited (log ${s.process.logFile})`,
      });
    }
    return started;
  }

  /** Starts replicas of a stage in a group of their own (see startServiceGroup), stopped by close. */
  async startGroup(options: Omit<Parameters<typeof startServiceGroup>[1], 'logDir'>) {
    const group = await startServiceGroup(this.clients, { ...options, logDir: this.logDir });
    this.groups.push(group);
    return group;
  }

  /** Starts the funder simulator with exactly these funders, stopped by close. */
  async startSimulator(funders: Record<string, SimFunder>): Promise<Simulator> {
    this.simulator = await startSimulator(funders, this.logDir);
    return this.simulator;
  }

  /** Starts a runner the scenario built, stopped by close. */
  async startRunner(runner: StageRunner): Promise<StageRunner> {
    this.runners.push(runner);
    await runner.start();
    return runner;
  }

  /** {@link waitUntil} within the scenario's limits unless `options` says otherwise. */
  waitUntil<T>(
    what: string,
    probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
    options: Partial<WaitOptions> = {},
  ): Promise<T> {
    return waitUntil(what, probe, { ...this.limits, ...options });
  }

  /** Resolves once `groupId` is Stable with `members` members holding every partition of `topics`. */
  waitForGroupJoined(groupId: string, topics: readonly string[], members = 1): Promise<void> {
    return waitForGroupJoined(this.clients, groupId, topics, members, this.limits);
  }

  /** Stops everything the scenario started, deletes its topic copies and closes its clients. */
  async close(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
    await stopStages(
      [
        ...this.processes,
        ...this.groups.flatMap((g) => g.processes),
        ...(this.simulator ? [this.simulator.process] : []),
      ],
      this.config.runner.shutdownGraceMs,
    );
    for (const copies of this.topicCopies) await deleteScopedTopics(this.clients, copies);
    await this.clients.close();
  }
}
