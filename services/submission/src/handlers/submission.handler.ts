import { Controller, Inject } from '@nestjs/common';
import {
  RoutedGrantV2Avro,
  RoutedGrantV2Schema,
  SubmissionRetryV2Avro,
  SubmissionRetryV2Schema,
  TOPICS,
  type RoutedGrantV2,
  type SubmissionRetryV2,
} from '@grantstream/contracts';
import {
  CONTENT_HASH_DETAIL,
  DUPLICATE_ACTION,
  DUPLICATE_OF_TRAIL_DETAIL,
  DUPLICATE_OUTCOME,
  RESUBMISSION_OF_TRAIL_DETAIL,
} from '@grantstream/audit';
import {
  FunderMisconfiguredError,
  RetryBudgetExhaustedError,
  UnknownFunderError,
} from '@grantstream/errors';
import {
  GaveUpError,
  StageEvent,
  configuredSubscription,
  type HandlerContext,
  type HandlerResult,
  type InboundMessage,
  type OutboundRecord,
  type ServiceIdentity,
} from '@grantstream/kafka';
import {
  decideAfterAttempt,
  type AttemptOutcome,
  type AttemptPolicy,
  type RetryDecision,
} from '../domain/attempt-decision';
import { decideContent, type AcceptedContent } from '../domain/content-decision';
import { portalRequestOf, type PortalRequest } from '../domain/portal-request';
import { tierFor, type Tier } from '../domain/retry-tier';
import {
  acceptedStatus,
  deadlineRiskNotification,
  portalMessageTexts,
  rejectedStatus,
  retryRecord,
} from '../domain/submission-records';
import type { FunderPortal } from '../funder-portal';
import type { SubmissionEvents } from '../submission-metrics';
import { AttemptTrail } from './attempt-trail';

/** Injection token of {@link SubmissionDeps}. */
export const SUBMISSION_DEPS = Symbol('SUBMISSION_DEPS');

/** What the handler needs, built once at startup from validated config. */
export interface SubmissionDeps {
  portals: ReadonlyMap<string, FunderPortal>;
  /** The fallback chain and retry bounds of a funder. */
  policyFor: (portal: FunderPortal) => AttemptPolicy;
  tiers: readonly Tier[];
  inlineRetryMaxMs: number;
  /** What a grant of a funder without a configured portal gets (see submission.config.ts). */
  unconfiguredFunders: 'dead_letter' | 'skip';
  service: ServiceIdentity;
  now: () => number;
  /** The backoff's jitter source in [0, 1); defaults to Math.random (specs pin it). */
  random?: () => number;
  events: SubmissionEvents;
  /** Contents accepted per grant (see content-state.ts): what tells a duplicate from a resubmission. */
  contentState: ContentState;
}

/** The handler's view of the content state: a grant's accepted contents, and accepting one more. */
export interface ContentState {
  /** The contents accepted for a grant of a routed partition, oldest first. */
  historyOf(partition: number, grantId: string): readonly AcceptedContent[];
  /** Records `content` as accepted; returns the changelog record to produce in the same transaction. */
  accept(partition: number, grantId: string, content: AcceptedContent): OutboundRecord;
}

/** Where a grant stands when an attempt begins. */
interface AttemptStart {
  routed: RoutedGrantV2;
  /** Attempts already made. */
  attemptsMade: number;
  firstAttemptAt: number;
  lookupFirst: boolean;
  /** The Idempotency-Key earlier attempts used (a tier record's); derived from the content otherwise. */
  idempotencyKey?: string;
  /** The trail a resubmission links to; null for a first filing. */
  resubmissionOf: string | null;
  /** The content-state record accepting this content, produced with the decision. */
  accepted?: OutboundRecord;
}

/**
 * The setting the retry handler takes its subscription from
 * (submission.retryTopicPattern); the configured tiers are checked against it at startup.
 */
export const RETRY_TOPIC_PATTERN_SETTING = 'submission.retryTopicPattern';

const MAX_DETAIL_CHARS = 500;
const clip = (text: string): string =>
  text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}…` : text;

/**
 * grants.routed.v1 and the retry tiers → a funder portal call, then in one
 * transaction: the grant's first status (grants.status.v1), a retry record
 * in the tier that covers its delay, or a dead letter; with an audit event for
 * every attempt (SUBMITTED, RETRY), every escalation (ESCALATED plus a
 * DEADLINE_AT_RISK notification request) and the portal's terminal rejection.
 */
@Controller()
export class SubmissionHandler {
  constructor(@Inject(SUBMISSION_DEPS) private readonly deps: SubmissionDeps) {}

  @StageEvent(TOPICS.ROUTED, { avro: RoutedGrantV2Avro, zod: RoutedGrantV2Schema })
  async routed(
    message: InboundMessage<RoutedGrantV2>,
    context: HandlerContext,
  ): Promise<HandlerResult> {
    const routed = message.value;
    const start: AttemptStart = {
      routed,
      attemptsMade: 0,
      firstAttemptAt: this.deps.now(),
      lookupFirst: false,
      resubmissionOf: null,
    };
    // No portal: skipped or dead-lettered by attempt(), nothing accepted.
    if (!this.deps.portals.has(routed.funder_id)) return this.attempt(message, start, context);
    const request = portalRequestOf(routed);
    const { contentState } = this.deps;
    const decision = decideContent(
      contentState.historyOf(message.partition, routed.grant_id),
      request,
      routed.audit_trail_id,
    );
    if (decision.kind === 'duplicate') return this.duplicate(message, request, decision.of);
    start.resubmissionOf =
      decision.kind === 'resubmission'
        ? decision.previous.auditTrailId
        : decision.kind === 'redelivery'
          ? (decision.previous?.auditTrailId ?? null)
          : null;
    // A trail is filed under the key it was accepted with, whatever this copy of it derives.
    if (decision.kind === 'redelivery') start.idempotencyKey = decision.own.idempotencyKey;
    // Before the first await: a second copy in the same chunk is judged against it.
    else
      start.accepted = contentState.accept(message.partition, routed.grant_id, {
        contentHash: request.contentHash,
        bodyHash: request.bodyHash,
        auditTrailId: routed.audit_trail_id,
        idempotencyKey: request.idempotencyKey,
        acceptedAt: start.firstAttemptAt,
      });
    return this.attempt(message, start, context);
  }

  @StageEvent(configuredSubscription(RETRY_TOPIC_PATTERN_SETTING), {
    avro: SubmissionRetryV2Avro,
    zod: SubmissionRetryV2Schema,
  })
  async retry(
    message: InboundMessage<SubmissionRetryV2>,
    context: HandlerContext,
  ): Promise<HandlerResult> {
    const retry = message.value;
    const wait = retry.not_before - this.deps.now();
    if (wait > this.deps.inlineRetryMaxMs) return { records: [], deferUntil: retry.not_before };
    // Due within the inline bound: waiting here is quicker than parking the
    // partition and fetching the message again once it is due (a throttled
    // grant's short trip through a tier would otherwise leave its funder's
    // limiter idle meanwhile).
    if (wait > 0) await sleep(wait, context.signal);
    return this.attempt(
      message,
      {
        routed: retry.routed,
        attemptsMade: retry.attempt,
        firstAttemptAt: retry.first_attempt_at,
        lookupFirst: retry.last_error_category === 'NETWORK_TIMEOUT',
        idempotencyKey: retry.idempotency_key,
        resubmissionOf: retry.resubmission_of_trail,
      },
      context,
    );
  }

  /** A content accepted before on another trail: a DUPLICATE event linking it, and nothing filed. */
  private duplicate(
    message: InboundMessage<RoutedGrantV2>,
    request: PortalRequest,
    of: AcceptedContent,
  ): HandlerResult {
    const routed = message.value;
    const trail = new AttemptTrail(message, routed, request, this.deps.service, {
      [CONTENT_HASH_DETAIL]: request.contentHash,
    });
    trail.add(DUPLICATE_ACTION, this.deps.now(), null, {
      outcome: DUPLICATE_OUTCOME,
      [DUPLICATE_OF_TRAIL_DETAIL]: of.auditTrailId,
      idempotency_key: of.idempotencyKey,
    });
    this.deps.events.duplicate(routed.funder_id);
    return { records: trail.finish([]) };
  }

  private async attempt(
    message: InboundMessage<unknown>,
    start: AttemptStart,
    context: HandlerContext,
  ): Promise<HandlerResult> {
    const { routed } = start;
    const portal = this.deps.portals.get(routed.funder_id);
    if (!portal && this.deps.unconfiguredFunders === 'skip') return { records: [] };
    if (!portal) {
      throw new UnknownFunderError([
        {
          code: 'UNKNOWN_FUNDER',
          field: 'funder_id',
          message: `no portal is configured for funder ${routed.funder_id}`,
        },
      ]);
    }
    const built = portalRequestOf(routed);
    const request = start.idempotencyKey
      ? { ...built, idempotencyKey: start.idempotencyKey }
      : built;
    const policy = this.deps.policyFor(portal);
    const trail = new AttemptTrail(message, routed, request, this.deps.service, {
      [CONTENT_HASH_DETAIL]: request.contentHash,
      ...(start.resubmissionOf === null
        ? {}
        : { [RESUBMISSION_OF_TRAIL_DETAIL]: start.resubmissionOf }),
    });
    const accepted = start.accepted ? [start.accepted] : [];
    const history: string[] = [];
    let attempt = start.attemptsMade;
    let lookupFirst = start.lookupFirst;
    for (;;) {
      const outcome = await this.call(portal, request, lookupFirst, context.signal);
      // Only a call that reached the portal counts as an attempt.
      if (outcome.kind !== 'throttled' && outcome.kind !== 'circuit_open') attempt += 1;
      const now = this.deps.now();
      const decision = decideAfterAttempt(
        outcome,
        {
          attempt,
          firstAttemptAt: start.firstAttemptAt,
          deadline: routed.grant.submission_deadline,
        },
        policy,
        now,
        this.deps.random,
      );
      this.deps.events.attempted(portal.funderId, outcome.kind);
      switch (decision.kind) {
        case 'accepted': {
          trail.add('SUBMITTED', now, null, {
            attempt: String(attempt),
            tracking_number: decision.trackingNumber,
            status: decision.status,
            created: String(decision.created),
            idempotency_key: request.idempotencyKey,
          });
          const status = acceptedStatus(
            routed,
            decision,
            request.idempotencyKey,
            now,
            portal.config.status.pollIntervalMs,
          );
          return {
            records: trail.finish([
              { topic: TOPICS.STATUS, key: routed.grant_id, value: status },
              ...accepted,
            ]),
          };
        }
        case 'rejected': {
          const texts = portalMessageTexts(decision.messages);
          trail.add('STATUS_CHANGED', now, 'FUNDER_REJECTION', {
            attempt: String(attempt),
            status: 'REJECTED_WITH_ERRORS',
            http_status: String(decision.httpStatus),
            portal_messages: clip(texts.join(' | ')),
            idempotency_key: request.idempotencyKey,
          });
          const status = rejectedStatus(routed, decision.messages, request.idempotencyKey, now);
          return {
            records: trail.finish([
              { topic: TOPICS.STATUS, key: routed.grant_id, value: status },
              ...accepted,
            ]),
          };
        }
        case 'give_up': {
          history.push(`attempt ${attempt}: ${decision.reason}`);
          const reason = `${routed.grant_id} not filed with ${portal.funderId}: ${history.join('; ')}`;
          const error =
            decision.code === 'FUNDER_MISCONFIGURED'
              ? new FunderMisconfiguredError(reason)
              : new RetryBudgetExhaustedError(decision.category, reason);
          // The attempts retried in place keep their RETRY events; the runner's
          // DEAD_LETTER event follows the last of them, and it and the dead
          // letter count every attempt (a tier record's earlier ones too).
          throw new GaveUpError(error, trail.finish(accepted), trail.headHeaders(), attempt);
        }
        case 'retry': {
          history.push(`attempt ${attempt}: ${decision.category} ${decision.reason}`);
          const tier = tierFor(decision.delayMs, this.deps.tiers);
          // Waiting in place holds the partition: only short waits that need no
          // escalation, and never for our own limiter (the partition must move on).
          const inline =
            decision.delayMs <= this.deps.inlineRetryMaxMs &&
            !decision.deadlineAtRisk &&
            !decision.flowControl;
          if (!decision.flowControl)
            trail.add('RETRY', now, decision.category, {
              attempt: String(attempt),
              reason: clip(decision.reason),
              delay_ms: String(decision.delayMs),
              next_attempt_at: new Date(now + decision.delayMs).toISOString(),
              waits_in: inline ? 'place' : tier.topic,
              lookup_first: String(decision.lookupFirst),
              idempotency_key: request.idempotencyKey,
            });
          const outputs: Omit<OutboundRecord, 'headers'>[] = [];
          if (decision.deadlineAtRisk)
            outputs.push(...this.escalate(trail, routed, decision, request, attempt, now));
          if (inline) {
            this.deps.events.retried(portal.funderId, 'inline');
            await sleep(decision.delayMs, context.signal);
            lookupFirst = decision.lookupFirst;
            continue;
          }
          this.deps.events.retried(portal.funderId, tier.topic);
          const record = retryRecord(
            routed,
            decision,
            {
              attempt,
              firstAttemptAt: start.firstAttemptAt,
              idempotencyKey: request.idempotencyKey,
              resubmissionOf: start.resubmissionOf,
            },
            now,
          );
          outputs.push({ topic: tier.topic, key: routed.grant_id, value: record }, ...accepted);
          return { records: trail.finish(outputs) };
        }
      }
    }
  }

  /** ESCALATED in the trail, and the request that makes notification tell the compliance officer. */
  private escalate(
    trail: AttemptTrail,
    routed: RoutedGrantV2,
    decision: RetryDecision,
    request: PortalRequest,
    attempt: number,
    now: number,
  ): OutboundRecord[] {
    const notification = deadlineRiskNotification(
      routed,
      decision,
      request.idempotencyKey,
      attempt,
      now,
    );
    const head = trail.add('ESCALATED', now, 'DEADLINE_AT_RISK', {
      attempt: String(attempt),
      deadline: new Date(routed.grant.submission_deadline).toISOString(),
      next_attempt_at: notification.details['next_attempt_at'] ?? '',
      notification_id: notification.notification_id,
    });
    this.deps.events.escalated(routed.funder_id);
    return [
      { topic: TOPICS.NOTIFICATIONS, key: routed.grant_id, value: notification, headers: head },
    ];
  }

  private async call(
    portal: FunderPortal,
    request: PortalRequest,
    lookupFirst: boolean,
    signal: AbortSignal,
  ): Promise<AttemptOutcome> {
    const submitRequest = {
      grantId: request.body['grant_id'] as string,
      idempotencyKey: request.idempotencyKey,
      body: request.body,
    };
    if (!lookupFirst) return portal.submit(submitRequest, signal);
    // The last attempt's fate is unknown (timeout, cut connection): ask first.
    const found = await portal.lookup(request.idempotencyKey, signal);
    switch (found.kind) {
      case 'found':
        return {
          kind: 'accepted',
          trackingNumber: found.trackingNumber,
          status: found.status,
          created: false,
        };
      case 'not_found':
        return portal.submit(submitRequest, signal);
      default:
        return found;
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
