/**
 * The client side of funder portals: one adapter interface with outcomes
 * instead of exceptions, the generic REST adapter of the guide's API,
 * deterministic idempotency keys, a per-funder circuit breaker, full-jitter
 * backoff, the per-funder client config schema and the mapping of outcomes to
 * audit error categories. Used by the submission and status-polling stages.
 */
export { fullJitterBackoff, type BackoffBounds } from './lib/backoff';
export { classifyForAudit, type AuditClassification } from './lib/classify-for-audit';
export type { FunderAdapter, SubmitRequest } from './lib/funder-adapter';
export {
  funderClientConfigSchema,
  fundersSectionSchema,
  resolveFunderTokens,
  type FunderClientConfig,
  type FundersSection,
} from './lib/funder-client-config';
export {
  FunderGuard,
  isPortalFailure,
  type CircuitSettings,
  type CircuitState,
  type CircuitStateChange,
  type CircuitStateListener,
  type FunderGuardOptions,
  type GuardedFunderAdapter,
} from './lib/funder-guard';
export {
  FunderLimiter,
  limiterIdOf,
  minTimeOf,
  type FunderLimiterCounts,
  type FunderLimiterDeps,
  type FunderLimiterOptions,
  type FunderLimiterRedis,
  type RanResult,
  type ScheduleOptions,
  type ScheduleResult,
  type ThrottledResult,
} from './lib/funder-limiter';
export {
  FunderApiMetrics,
  type PortalCall,
  type PortalCallObserver,
} from './lib/funder-api-metrics';
export { idempotencyKeyOf } from './lib/idempotency-key';
export type {
  AcceptedOutcome,
  CircuitOpenOutcome,
  FoundOutcome,
  FunderOutcome,
  LookupOutcome,
  MisconfiguredOutcome,
  NotFoundOutcome,
  PortalMessage,
  PortalOutcome,
  RateLimitedOutcome,
  RejectedOutcome,
  StatusHistoryEntry,
  StatusOutcome,
  SubmitOutcome,
  TimedOutOutcome,
  TransientOutcome,
} from './lib/outcomes';
export {
  errorsResponseSchema,
  submissionResourceSchema,
  submitResponseSchema,
} from './lib/portal-responses';
export {
  MAX_PORTAL_RESPONSE_BYTES,
  RestFunderAdapter,
  type RestFunderAdapterConfig,
  type RestFunderAdapterDeps,
} from './lib/rest-funder-adapter';
export { parseRetryAfter } from './lib/retry-after';
