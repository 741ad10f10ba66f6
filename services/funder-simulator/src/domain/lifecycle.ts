import type { FunderBehaviour } from './behaviour';
import { grantFraction } from './hash';
import { AGENCY_REJECTIONS, messagesFor, type FieldMessage } from './messages';

/** Grants.gov submission statuses, in lifecycle order. */
export const SUBMISSION_STATUSES = [
  'RECEIVED',
  'PROCESSING',
  'VALIDATED',
  'RECEIVED_BY_AGENCY',
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
] as const;

/** One of {@link SUBMISSION_STATUSES}. */
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/** Statuses a submission never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<SubmissionStatus> = new Set<SubmissionStatus>([
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
  'REJECTED_WITH_ERRORS',
]);

const ACCEPTED_PATH: readonly SubmissionStatus[] = [
  'RECEIVED',
  'PROCESSING',
  'VALIDATED',
  'RECEIVED_BY_AGENCY',
  'AGENCY_TRACKING_NUMBER_ASSIGNED',
];
const REJECTED_PATH: readonly SubmissionStatus[] = [
  'RECEIVED',
  'PROCESSING',
  'REJECTED_WITH_ERRORS',
];
/** A flapping submission's way to its first VALIDATED; from there it alternates with {@link FLAP_CYCLE}. */
const FLAPPING_START: readonly SubmissionStatus[] = ['RECEIVED', 'PROCESSING', 'VALIDATED'];
/** The statuses a flapping submission alternates between after {@link FLAPPING_START}, in order. */
const FLAP_CYCLE: readonly SubmissionStatus[] = ['PROCESSING', 'VALIDATED'];

/**
 * A submission's whole future, fixed when it is received. Fixing it then
 * (rather than reading the funder's behaviour at each poll) means a runtime
 * behaviour change never moves a submission backwards or rewrites its history.
 */
export interface LifecyclePlan {
  receivedAt: number;
  /** How long each non-terminal status lasts. */
  dwellMs: number;
  /** Ends in REJECTED_WITH_ERRORS after PROCESSING, with `rejection` messages. */
  rejected: boolean;
  rejection: readonly FieldMessage[];
  /** Never ends: VALIDATED, PROCESSING, VALIDATED ..., one flip per dwell (wins over `rejected`). */
  flapping?: boolean;
}

/**
 * Plans a submission of `grantId` received at `receivedAt`; slow, rejected
 * and flapping ones are chosen by grant id. A flapping one is never rejected:
 * it never reaches any terminal status.
 */
export function planLifecycle(
  grantId: string,
  receivedAt: number,
  behaviour: Pick<
    FunderBehaviour,
    | 'statusDwellMs'
    | 'slowStatusRate'
    | 'slowStatusDwellMs'
    | 'statusRejectRate'
    | 'statusFlapRate'
    | 'flapGrantIds'
  >,
): LifecyclePlan {
  const slow = grantFraction(grantId, 'slow-status') < behaviour.slowStatusRate;
  const flapping =
    (behaviour.flapGrantIds ?? []).includes(grantId) ||
    grantFraction(grantId, 'status-flap') < (behaviour.statusFlapRate ?? 0);
  const rejected =
    !flapping && grantFraction(grantId, 'status-reject') < behaviour.statusRejectRate;
  return {
    receivedAt,
    dwellMs: slow ? behaviour.slowStatusDwellMs : behaviour.statusDwellMs,
    rejected,
    rejection: rejected ? messagesFor(grantId, AGENCY_REJECTIONS, 'status-reject-message') : [],
    ...(flapping ? { flapping } : {}),
  };
}

/** The status of a flapping submission after `step` dwells. */
function flappingStatus(step: number): SubmissionStatus {
  if (step < FLAPPING_START.length) return FLAPPING_START[step]!;
  return FLAP_CYCLE[(step - FLAPPING_START.length) % FLAP_CYCLE.length]!;
}

/** Where a submission stands at a moment. */
export interface StatusView {
  status: SubmissionStatus;
  /** Every status reached so far, oldest first, with when it was reached (ms). */
  history: { status: SubmissionStatus; at: number }[];
  /** The agency's reasons, once REJECTED_WITH_ERRORS. */
  messages: readonly FieldMessage[];
  terminal: boolean;
}

/**
 * The status of a planned submission at `now` (ms): one step per elapsed
 * dwell. A flapping submission with no dwell stays at VALIDATED (it would
 * otherwise flip infinitely often at once).
 */
export function statusAt(plan: LifecyclePlan, now: number): StatusView {
  const elapsed = Math.max(0, now - plan.receivedAt);
  if (plan.flapping === true) {
    const steps = plan.dwellMs > 0 ? Math.floor(elapsed / plan.dwellMs) : FLAPPING_START.length - 1;
    const history = Array.from({ length: steps + 1 }, (_, i) => ({
      status: flappingStatus(i),
      at: plan.receivedAt + i * plan.dwellMs,
    }));
    return { status: flappingStatus(steps), history, messages: [], terminal: false };
  }
  const path = plan.rejected ? REJECTED_PATH : ACCEPTED_PATH;
  const steps = plan.dwellMs > 0 ? Math.floor(elapsed / plan.dwellMs) : path.length;
  const index = Math.min(path.length - 1, steps);
  const history = path
    .slice(0, index + 1)
    .map((status, i) => ({ status, at: plan.receivedAt + i * plan.dwellMs }));
  const status = path[index]!;
  const terminal = TERMINAL_STATUSES.has(status);
  return {
    status,
    history,
    messages: status === 'REJECTED_WITH_ERRORS' ? plan.rejection : [],
    terminal,
  };
}

/** Grants.gov-style tracking number: `GRANT` and eight digits. */
export function trackingNumber(sequence: number): string {
  return `GRANT${String(sequence).padStart(8, '0')}`;
}

/** The agency's own number, assigned with AGENCY_TRACKING_NUMBER_ASSIGNED. */
export function agencyTrackingNumber(funderId: string, tracking: string): string {
  return `${funderId}-${tracking.slice('GRANT'.length)}`;
}
