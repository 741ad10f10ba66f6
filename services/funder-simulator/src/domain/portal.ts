import { burstOf, type FunderBehaviour } from './behaviour';
import { decide, type BodyFacts, type Decision, type Delivery } from './decide';
import { canonicalJson } from '@grantstream/audit';
import type { RandomSource } from './hash';
import {
  agencyTrackingNumber,
  planLifecycle,
  statusAt,
  SUBMISSION_STATUSES,
  trackingNumber,
  type LifecyclePlan,
  type SubmissionStatus,
} from './lifecycle';
import { TokenBucket, type TakeResult } from './token-bucket';

/** A request body as the transport read it. */
export type ReadBody = { kind: 'text'; text: string } | { kind: 'too-large' };

/** What the gateway saw of a request to the funder's API. */
export interface GatewayRequest {
  /** The bucket taken at arrival ({@link FunderPortal.arrive}). */
  rateLimit: TakeResult;
  /** The Authorization header. */
  authorization: string | undefined;
}

/** A `POST /v2/submissions`. */
export interface SubmitRequest extends GatewayRequest {
  idempotencyKey: string | undefined;
  body: ReadBody;
}

/** The portal's answer, ready to be written by the transport. */
export interface PortalAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Set on 429. */
  retryAfterSeconds?: number;
  /** `timeout`: answer after the funder's timeoutDelayMs; `drop`: destroy the connection instead. */
  delivery: Delivery;
}

/** Counters a test or benchmark reads (`GET /__sim/stats`). */
export interface FunderStats {
  /** Every request to the funder's API, rate-limited ones included. */
  requests: number;
  created: number;
  /** Rate-limit violations: requests answered 429. */
  rateLimited: number;
  unauthorized: number;
  /** 400, 413 and malformed-body 422 answers, idempotency conflicts included. */
  badRequests: number;
  serverErrors: number;
  timeouts: number;
  drops: number;
  /** Validation failures answered 422 at submission. */
  rejections: number;
  /** POSTs answered from an earlier creation (same key, same body). */
  replays: number;
  maxConcurrent: number;
  inFlight: number;
  /** Creations per idempotency key: more than 1 would be a double submission. */
  submissionsPerKey: Record<string, number>;
  /** Every POST per idempotency key, whatever its answer. */
  postsPerKey: Record<string, number>;
  /** Submissions per current status. */
  statuses: Record<SubmissionStatus, number>;
}

interface Submission {
  tracking: string;
  grantId: string;
  idempotencyKey: string;
  canonicalBody: string;
  plan: LifecyclePlan;
  /** Status answers given so far: a flapping submission's replicas answer in turn. */
  reads: number;
}

type Counter = Exclude<
  keyof FunderStats,
  'maxConcurrent' | 'inFlight' | 'submissionsPerKey' | 'postsPerKey' | 'statuses'
>;

const SERVER_ERROR_TEXT: Record<number, string> = {
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
};

/**
 * One simulated funder portal: its submissions, idempotency keys, rate limit
 * and counters. No I/O: the transport passes the clock and random source in
 * and writes the answers (with latency) itself.
 */
export class FunderPortal {
  private current: FunderBehaviour;
  private bucket: TokenBucket;
  private sequence = 0;
  private readonly byTracking = new Map<string, Submission>();
  private readonly byKey = new Map<string, Submission>();
  private readonly postsPerKey = new Map<string, number>();
  private readonly counters: Record<Counter, number> = {
    requests: 0,
    created: 0,
    rateLimited: 0,
    unauthorized: 0,
    badRequests: 0,
    serverErrors: 0,
    timeouts: 0,
    drops: 0,
    rejections: 0,
    replays: 0,
  };
  private inFlight = 0;
  private maxConcurrent = 0;

  constructor(
    readonly funderId: string,
    behaviour: FunderBehaviour,
  ) {
    this.current = behaviour;
    this.bucket = new TokenBucket(burstOf(behaviour), behaviour.rateLimitPerSecond);
  }

  /** The behaviour in force. */
  get behaviour(): FunderBehaviour {
    return this.current;
  }

  /** Replaces the behaviour; a changed rate or burst starts a fresh, full bucket. */
  configure(behaviour: FunderBehaviour): void {
    const rateChanged =
      burstOf(behaviour) !== this.bucket.capacity ||
      behaviour.rateLimitPerSecond !== this.bucket.refillPerSecond;
    this.current = behaviour;
    if (rateChanged) {
      this.bucket = new TokenBucket(burstOf(behaviour), behaviour.rateLimitPerSecond);
    }
  }

  /**
   * A request arrived: counts it as in flight and takes its token then, as a
   * gateway would, before the body is read. Pair with {@link leave}.
   */
  arrive(now: number): TakeResult {
    this.counters.requests += 1;
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    return this.bucket.take(now);
  }

  /** The request's connection is done (answered, dropped, or abandoned by the client). */
  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** `POST /v2/submissions`. */
  submit(request: SubmitRequest, now: number, random: RandomSource): PortalAnswer {
    const key = request.idempotencyKey || undefined;
    if (key !== undefined) this.postsPerKey.set(key, (this.postsPerKey.get(key) ?? 0) + 1);
    const body = parseBody(request.body);
    const canonicalBody = body.kind === 'json' ? canonicalJson(body.value) : '';
    const existing = key === undefined ? undefined : this.byKey.get(key);
    const decision = decide(
      {
        kind: 'submit',
        rateLimit: request.rateLimit,
        authorized: this.authorized(request.authorization),
        idempotencyKey: key,
        body,
        previous: existing && { sameBody: existing.canonicalBody === canonicalBody },
      },
      this.current,
      random,
    );
    if (decision.kind === 'replay' && existing) {
      this.counters.replays += 1;
      return prompt(200, this.view(existing, now));
    }
    if (decision.kind === 'create' && key !== undefined) {
      return this.create(decision.grantId, key, canonicalBody, decision.delivery, now);
    }
    return this.refuse(decision);
  }

  /** `GET /v2/submissions/{tracking}`. */
  readByTracking(
    request: GatewayRequest,
    tracking: string,
    now: number,
    random: RandomSource,
  ): PortalAnswer {
    return this.read(request, now, random, () => this.byTracking.get(tracking));
  }

  /** `GET /v2/submissions?idempotency_key=K`: resolves a POST whose answer never came. */
  readByKey(
    request: GatewayRequest,
    key: string | undefined,
    now: number,
    random: RandomSource,
  ): PortalAnswer {
    if (!key) {
      const gate = this.gate(request, random);
      return gate ?? this.refuse({ kind: 'bad-request', message: 'idempotency_key is required' });
    }
    return this.read(request, now, random, () => this.byKey.get(key));
  }

  /** The counters, with statuses as of `now`. */
  stats(now: number): FunderStats {
    const statuses = Object.fromEntries(SUBMISSION_STATUSES.map((s) => [s, 0])) as Record<
      SubmissionStatus,
      number
    >;
    for (const submission of this.byTracking.values()) {
      statuses[statusAt(submission.plan, now).status] += 1;
    }
    return {
      ...this.counters,
      maxConcurrent: this.maxConcurrent,
      inFlight: this.inFlight,
      submissionsPerKey: Object.fromEntries([...this.byKey.keys()].map((k) => [k, 1])),
      postsPerKey: Object.fromEntries(this.postsPerKey),
      statuses,
    };
  }

  private read(
    request: GatewayRequest,
    now: number,
    random: RandomSource,
    find: () => Submission | undefined,
  ): PortalAnswer {
    const gate = this.gate(request, random);
    if (gate) return gate;
    const submission = find();
    return submission
      ? prompt(200, this.view(submission, now))
      : prompt(404, { error: 'submission not found' });
  }

  private gate(request: GatewayRequest, random: RandomSource): PortalAnswer | undefined {
    const decision = decide(
      {
        kind: 'read',
        rateLimit: request.rateLimit,
        authorized: this.authorized(request.authorization),
      },
      this.current,
      random,
    );
    return decision.kind === 'serve' ? undefined : this.refuse(decision);
  }

  private create(
    grantId: string,
    key: string,
    canonicalBody: string,
    delivery: Delivery,
    now: number,
  ): PortalAnswer {
    this.sequence += 1;
    const submission: Submission = {
      tracking: trackingNumber(this.sequence),
      grantId,
      idempotencyKey: key,
      canonicalBody,
      plan: planLifecycle(grantId, now, this.current),
      reads: 0,
    };
    this.byTracking.set(submission.tracking, submission);
    this.byKey.set(key, submission);
    this.counters.created += 1;
    if (delivery === 'timeout') this.counters.timeouts += 1;
    if (delivery === 'drop') this.counters.drops += 1;
    return {
      status: 201,
      body: {
        tracking_number: submission.tracking,
        grant_id: grantId,
        status: 'RECEIVED',
        received_at: new Date(now).toISOString(),
      },
      delivery,
    };
  }

  private refuse(decision: Decision): PortalAnswer {
    switch (decision.kind) {
      case 'rate-limited':
        this.counters.rateLimited += 1;
        return {
          ...prompt(429, {
            error: 'rate limit exceeded',
            retry_after_seconds: decision.retryAfterSeconds,
          }),
          retryAfterSeconds: decision.retryAfterSeconds,
        };
      case 'unauthorized':
        this.counters.unauthorized += 1;
        return prompt(401, { error: 'missing or invalid bearer token' });
      case 'server-error':
        this.counters.serverErrors += 1;
        return prompt(decision.status, { error: SERVER_ERROR_TEXT[decision.status] });
      case 'bad-request':
        this.counters.badRequests += 1;
        return prompt(400, { error: decision.message });
      case 'too-large':
        this.counters.badRequests += 1;
        return prompt(413, { error: 'request body too large' });
      case 'invalid-request':
        this.counters.badRequests += 1;
        return prompt(422, { errors: decision.errors });
      case 'key-conflict':
        this.counters.badRequests += 1;
        return prompt(422, { error: 'idempotency key reused with a different body' });
      case 'validation-failure':
        this.counters.rejections += 1;
        return prompt(422, { errors: decision.errors });
      case 'replay':
      case 'create':
      case 'serve':
        return prompt(500, { error: `inconsistent decision ${decision.kind}` });
    }
  }

  private view(submission: Submission, now: number): Record<string, unknown> {
    const at = statusAt(submission.plan, now, submission.reads);
    submission.reads += 1;
    return {
      tracking_number: submission.tracking,
      grant_id: submission.grantId,
      status: at.status,
      received_at: new Date(submission.plan.receivedAt).toISOString(),
      status_history: at.history.map((h) => ({
        status: h.status,
        at: new Date(h.at).toISOString(),
      })),
      messages: at.messages,
      ...(at.status === 'AGENCY_TRACKING_NUMBER_ASSIGNED'
        ? { agency_tracking_number: agencyTrackingNumber(this.funderId, submission.tracking) }
        : {}),
    };
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
    return match?.[1] === this.current.token;
  }
}

function parseBody(body: ReadBody): BodyFacts {
  if (body.kind === 'too-large') return body;
  try {
    return { kind: 'json', value: JSON.parse(body.text) as unknown };
  } catch {
    return { kind: 'not-json' };
  }
}

function prompt(status: number, body: Record<string, unknown>): PortalAnswer {
  return { status, body, delivery: 'prompt' };
}
