/**
 * What a service of schemas/pipeline.yaml is: a pipeline stage, another
 * service of the stack, or the operations console (started last, with a
 * users file, serving pages rather than /metrics).
 */
export type ServiceKind = 'stage' | 'service' | 'console';

/**
 * One input of a service: a topic, or a pattern (a regular expression source)
 * standing for every topic matching it, topics created later included.
 */
export type InputDeclaration =
  | {
      /** A topic of schemas/topics.yaml. */
      readonly topic: string;
      /** The configuration key the service takes the topic from, or null when it is fixed in code. */
      readonly setting: string | null;
    }
  | {
      /** Regular expression source; the service subscribes to every matching topic. */
      readonly pattern: string;
      /** The configuration key the service takes the pattern from. */
      readonly setting: string;
    };

/** One topic a service writes. */
export interface OutputDeclaration {
  /** A topic of schemas/topics.yaml. */
  readonly topic: string;
  /** The configuration key the service takes the topic from, or null when it is fixed in code. */
  readonly setting: string | null;
}

/** The delay tiers a stage defers to and reads back. */
export interface RetryTiersDeclaration {
  /** The configuration key listing them with their delays (e.g. `submission.retryTiers`). */
  readonly setting: string;
  /** Topics with a retryDelayMs in schemas/topics.yaml, shortest delay first. */
  readonly topics: readonly string[];
}

/** A service as schemas/pipeline.yaml declares it, with the defaults codegen fills in. */
export interface ServiceDeclaration {
  /** Service name, its folder under services/ (e.g. `status-polling`). */
  readonly name: string;
  readonly kind: ServiceKind;
  /** What the service does, in one line. */
  readonly description: string;
  /** Entry point relative to the workspace root (`services/<name>/src/main.ts`). */
  readonly entry: string;
  /** Its section of config/grantstream.yaml (e.g. `statusPolling`). */
  readonly configSection: string;
  /** The same section as GRANTSTREAM__<SECTION>__... environment overrides name it (e.g. `STATUS_POLLING`). */
  readonly envSection: string;
  /** The port it serves /metrics and its health endpoints on (the simulator: its API). */
  readonly port: number;
  /** The configuration key of that port (stages: `<section>.metrics.port`). */
  readonly portSetting: string;
  /** The path that answers 200 once it is ready. */
  readonly probe: string;
  readonly inputs: readonly InputDeclaration[];
  /** Topics it writes besides what the runtime writes for every stage (see EVERY_STAGE_OUTPUTS). */
  readonly outputs: readonly OutputDeclaration[];
  readonly retryTiers: RetryTiersDeclaration | null;
}
