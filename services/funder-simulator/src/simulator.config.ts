import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfigOrExit, loggingSchema } from '@grantstream/config';

const rate = z.number().min(0).max(1);
const ms = z.int().min(0);

const FUNDER_ID_MESSAGE = 'expected a funder id such as NSF (upper case, 2-16 characters)';

/** The funder-id part of a grant id (NSF, BCF, SCDA ...): the path segment `/funders/{id}`. */
export const funderIdSchema = z.string().regex(/^[A-Z][A-Z0-9]{1,15}$/, FUNDER_ID_MESSAGE);

/** Fields of one funder's behaviour; see domain/behaviour.ts for what each does. */
const behaviourShape = {
  token: z.string().min(1),
  rateLimitPerSecond: z.number().positive(),
  /** Optional: defaults to the rate (at least 1). */
  burst: z.int().min(1).optional(),
  /** Optional: fixed Retry-After seconds on 429; otherwise the bucket's wait, rounded up, at least 1. */
  retryAfterSeconds: z.int().min(1).optional(),
  /** Uniform latency added to every answer of the funder's API. */
  latencyMs: z.strictObject({ min: ms, max: ms }),
  serverErrorRate: rate,
  timeoutRate: rate,
  timeoutDelayMs: ms,
  /** Optional, default 0: created, then the connection is destroyed without an answer. */
  dropRate: rate.optional(),
  validationFailureRate: rate,
  /** Optional, default none: grant ids always refused with 422. */
  rejectGrantIds: z.array(z.string().min(1)).readonly().optional(),
  statusDwellMs: ms,
  slowStatusRate: rate,
  slowStatusDwellMs: ms,
  statusRejectRate: rate,
  /** Optional, default 0: grants whose status flips between PROCESSING and VALIDATED forever. */
  statusFlapRate: rate.optional(),
  /** Optional, default none: grant ids whose status flips forever. */
  flapGrantIds: z.array(z.string().min(1)).readonly().optional(),
};

type BehaviourFields = {
  latencyMs: { min: number; max: number };
  timeoutRate: number;
  dropRate?: number | undefined;
};

function checkBehaviour(b: BehaviourFields, ctx: z.RefinementCtx): void {
  if (b.latencyMs.min > b.latencyMs.max) {
    ctx.addIssue({
      code: 'custom',
      path: ['latencyMs'],
      message: 'latencyMs.min must not exceed latencyMs.max',
    });
  }
  if (b.timeoutRate + (b.dropRate ?? 0) > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['dropRate'],
      message: 'timeoutRate + dropRate must not exceed 1',
    });
  }
}

/** One funder portal's behaviour (a `simulator.funders.<ID>` entry). */
export const funderBehaviourSchema = z.strictObject(behaviourShape).superRefine(checkBehaviour);

/** Parsed {@link funderBehaviourSchema}. */
export type FunderBehaviourConfig = z.infer<typeof funderBehaviourSchema>;

/**
 * A runtime change (`PUT /__sim/funders/{f}`): any subset of the fields; `null`
 * clears an optional one. The merged result is checked with {@link funderBehaviourSchema}.
 */
export const funderBehaviourPatchSchema = z.strictObject({
  ...z.strictObject(behaviourShape).partial().shape,
  burst: behaviourShape.burst.nullable(),
  retryAfterSeconds: behaviourShape.retryAfterSeconds.nullable(),
  dropRate: behaviourShape.dropRate.nullable(),
  rejectGrantIds: behaviourShape.rejectGrantIds.nullable(),
  statusFlapRate: behaviourShape.statusFlapRate.nullable(),
  flapGrantIds: behaviourShape.flapGrantIds.nullable(),
});

/** Parsed {@link funderBehaviourPatchSchema}. */
export type FunderBehaviourPatch = z.infer<typeof funderBehaviourPatchSchema>;

/** The `simulator:` section of the configuration files. */
export const simulatorSectionSchema = z.strictObject({
  /** Loopback by default: the control endpoints answer loopback clients only. */
  host: z.string().min(1),
  /** 0 picks a free port (tests). */
  port: z.int().min(0).max(65535),
  /** Seeds server errors, timeouts, drops and latency; per-grant decisions hash the grant id instead. */
  seed: z.int(),
  /** Request bodies above this are refused with 413 without being buffered. */
  maxBodyBytes: z.int().min(1024),
  funders: z
    .record(funderIdSchema, funderBehaviourSchema, {
      // The record's own key issue says only "Invalid key in record".
      error: (issue) => (issue.code === 'invalid_key' ? FUNDER_ID_MESSAGE : undefined),
    })
    .refine((f) => Object.keys(f).length > 0, { message: 'at least one funder is required' }),
});

/** Parsed {@link simulatorSectionSchema}. */
export type SimulatorSettings = z.infer<typeof simulatorSectionSchema>;

/**
 * The simulator's configuration: only `logging` and `simulator` are read, so the
 * root is not strict and the other services' sections pass through unread.
 */
export const simulatorConfigSchema = z.object({
  logging: loggingSchema,
  simulator: simulatorSectionSchema,
});

/** Parsed {@link simulatorConfigSchema}. */
export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;

/** Parses the configuration once at startup; every problem is printed and the process exits 2. */
export function loadSimulatorConfig(
  env: Readonly<Record<string, string | undefined>>,
): SimulatorConfig {
  return loadConfigOrExit({ schema: simulatorConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
}
