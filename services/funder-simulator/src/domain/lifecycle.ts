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
/** A flapping submission's path as its up-to-date replica sees it: it stops short of the agency. */
const FLAPPING_PATH: readonly SubmissionStatus[] = ['RECEIVED', 'PROCESSING', 'VALIDATED'];
/** As its lagging replica sees it: never past PROCESSING. */
const LAGGING_PATH: readonly SubmissionStatus[] = ['RECEIVED', 'PROCESSING'];

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
  /**
   * Never settles (wins over `rejected`): the portal's two replicas disagree
   * and answer in turn, one at VALIDATED, the other stuck at PROCESSING, so
   * once VALIDATED every status read flips: VALIDATED, PROCESSING, VALIDATED ...
   */
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
 * dwell. `read` is the answer's ordinal among the submission's status
 * answers (0 first): a flapping submission's answers come from its two
 * replicas in turn, the even ones from the up-to-date replica, the odd ones
 * from the lagging one, each with its own history.
 */
export function statusAt(plan: LifecyclePlan, now: number, read = 0): StatusView {
  const path =
    plan.flapping === true
      ? read % 2 === 0
        ? FLAPPING_PATH
        : LAGGING_PATH
      : plan.rejected
        ? REJECTED_PATH
        : ACCEPTED_PATH;
  const elapsed = Math.max(0, now - plan.receivedAt);
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
