import type { z } from 'zod';
import type { FunderAdapter, SubmitRequest } from './funder-adapter';
import type {
  LookupOutcome,
  MisconfiguredOutcome,
  PortalMessage,
  RateLimitedOutcome,
  StatusOutcome,
  SubmitOutcome,
  TimedOutOutcome,
  TransientOutcome,
} from './outcomes';
import {
  describeIssues,
  errorsResponseSchema,
  submissionResourceSchema,
  submitResponseSchema,
} from './portal-responses';
import { parseRetryAfter } from './retry-after';
import type { PortalCall, PortalCallObserver } from './funder-api-metrics';

/**
 * Largest portal response body read. Portal answers are a few hundred bytes;
 * the cap keeps a misbehaving portal (or a wrong base URL serving a large page)
 * from costing more than this much memory per call.
 */
export const MAX_PORTAL_RESPONSE_BYTES = 1024 * 1024;

/** What a {@link RestFunderAdapter} needs to know about one funder. */
export interface RestFunderAdapterConfig {
  funderId: string;
  /** Base URL of the portal's API; `/v2/submissions` is appended to its path. */
  baseUrl: string;
  /** The bearer token itself, already read from the secret the config names. */
  token: string;
  /** Longest a call may take, response body included. */
  timeoutMs: number;
}

/** Collaborators of a {@link RestFunderAdapter}, injectable for tests. */
export interface RestFunderAdapterDeps {
  /** Defaults to Node's global fetch. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; Retry-After dates are measured against it. Defaults to Date.now. */
  now?: () => number;
  /** Told the status code (or timeout, network) and duration of every exchange, for metrics. */
  onCall?: PortalCallObserver;
}

/** A response whose body has been read (or found unreadable) within the timeout. */
interface Answer {
  kind: 'answer';
  httpStatus: number;
  headers: Headers;
  /** Parsed JSON; undefined when the body was empty, not JSON or too large. */
  json: unknown;
  /** Why `json` is undefined, for the reason of a malformed-body outcome. */
  unreadable: string | null;
}

type Exchange = Answer | TimedOutOutcome | TransientOutcome;

/** Query-side answers shared by status and lookup. */
type QueryOutcome = StatusOutcome;

function transient(
  httpStatus: number | null,
  reason: string,
  retryAfterMs: number | null = null,
): TransientOutcome {
  return { kind: 'transient', httpStatus, reason, retryAfterMs };
}

function misconfigured(httpStatus: number, reason: string): MisconfiguredOutcome {
  return { kind: 'misconfigured', httpStatus, reason };
}

function describeNetworkError(err: unknown): string {
  // undici reports "fetch failed" and puts the useful part (ECONNREFUSED, "other side closed") in cause.
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return String(cause);
}

async function readBody(response: Response): Promise<{ json: unknown; unreadable: string | null }> {
  if (!response.body) return { json: undefined, unreadable: 'empty body' };
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream, so an oversized body is not downloaded to the end.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_PORTAL_RESPONSE_BYTES) {
      return { json: undefined, unreadable: `body larger than ${MAX_PORTAL_RESPONSE_BYTES} bytes` };
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { json: undefined, unreadable: 'empty body' };
  try {
    return { json: JSON.parse(text) as unknown, unreadable: null };
  } catch {
    return { json: undefined, unreadable: 'body is not JSON' };
  }
}

/**
 * The generic REST adapter: the commissioning guide's portal API over HTTP
 * with a bearer token. Every call is bounded by the configured timeout (the
 * body read included) and every expected answer, including a portal bug, comes
 * back as an outcome; only the caller's own abort is thrown.
 */
export class RestFunderAdapter implements FunderAdapter {
  readonly funderId: string;
  private readonly submissionsUrl: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly onCall: PortalCallObserver;

  constructor(config: RestFunderAdapterConfig, deps: RestFunderAdapterDeps = {}) {
    this.funderId = config.funderId;
    const base = new URL(config.baseUrl);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/v2/submissions`;
    base.search = '';
    base.hash = '';
    this.submissionsUrl = base.toString();
    this.token = config.token;
    this.timeoutMs = config.timeoutMs;
    this.fetchFn = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
    this.onCall = deps.onCall ?? (() => undefined);
  }

  async submit(request: SubmitRequest, signal?: AbortSignal): Promise<SubmitOutcome> {
    const exchange = await this.exchange(
      'submit',
      'POST',
      this.submissionsUrl,
      { 'Content-Type': 'application/json', 'Idempotency-Key': request.idempotencyKey },
      JSON.stringify(request.body) ?? 'null',
      signal,
    );
    if (exchange.kind !== 'answer') return exchange;
    const { httpStatus } = exchange;
    if (httpStatus >= 200 && httpStatus < 300) {
      const parsed = submitResponseSchema.safeParse(exchange.json);
      if (!parsed.success) return this.malformed(exchange, parsed.error);
      return {
        kind: 'accepted',
        trackingNumber: parsed.data.tracking_number,
        status: parsed.data.status,
        created: httpStatus !== 200,
      };
    }
    if (httpStatus === 404 || httpStatus === 405) {
      return misconfigured(
        httpStatus,
        `portal has no submissions endpoint at the configured base URL (HTTP ${httpStatus})`,
      );
    }
    if (httpStatus >= 400 && httpStatus < 500 && !this.isRetryable4xx(httpStatus)) {
      const misconfig = this.misconfiguration(exchange);
      if (misconfig) return misconfig;
      return { kind: 'rejected', httpStatus, messages: this.rejectionMessages(exchange) };
    }
    return this.common(exchange);
  }

  async status(trackingNumber: string, signal?: AbortSignal): Promise<StatusOutcome> {
    return this.query(
      'status',
      `${this.submissionsUrl}/${encodeURIComponent(trackingNumber)}`,
      signal,
    );
  }

  async lookup(idempotencyKey: string, signal?: AbortSignal): Promise<LookupOutcome> {
    const url = new URL(this.submissionsUrl);
    url.searchParams.set('idempotency_key', idempotencyKey);
    return this.query('lookup', url.toString(), signal);
  }

  private async query(
    operation: PortalCall['operation'],
    url: string,
    signal: AbortSignal | undefined,
  ): Promise<QueryOutcome> {
    const exchange = await this.exchange(operation, 'GET', url, {}, undefined, signal);
    if (exchange.kind !== 'answer') return exchange;
    const { httpStatus } = exchange;
    if (httpStatus >= 200 && httpStatus < 300) {
      const parsed = submissionResourceSchema.safeParse(exchange.json);
      return parsed.success ? parsed.data : this.malformed(exchange, parsed.error);
    }
    if (httpStatus === 404 || httpStatus === 410) return { kind: 'not_found' };
    if (httpStatus >= 400 && httpStatus < 500 && !this.isRetryable4xx(httpStatus)) {
      return (
        this.misconfiguration(exchange) ??
        misconfigured(httpStatus, `portal refused the status query (HTTP ${httpStatus})`)
      );
    }
    return this.common(exchange);
  }

  /** Answers that mean the same whatever was asked: redirects, 429, retryable 4xx, 5xx. */
  private common(exchange: Answer): RateLimitedOutcome | MisconfiguredOutcome | TransientOutcome {
    const { httpStatus, headers } = exchange;
    const retryAfterMs = parseRetryAfter(headers.get('retry-after'), this.now());
    if (httpStatus === 429) return { kind: 'rate_limited', retryAfterMs };
    if (httpStatus >= 300 && httpStatus < 400) {
      // Following a redirect would turn a POST into a GET or leak the token to another host.
      const location = headers.get('location');
      return misconfigured(
        httpStatus,
        `portal redirected (HTTP ${httpStatus})${location ? ` to ${location}` : ''}: fix the base URL`,
      );
    }
    if (httpStatus >= 500)
      return transient(httpStatus, `portal error (HTTP ${httpStatus})`, retryAfterMs);
    return transient(httpStatus, `portal answered HTTP ${httpStatus}`, retryAfterMs);
  }

  /** 408 (request timeout), 409 (same key still in flight) and 425 (too early) pass on their own. */
  private isRetryable4xx(httpStatus: number): boolean {
    return httpStatus === 408 || httpStatus === 409 || httpStatus === 425 || httpStatus === 429;
  }

  private misconfiguration(exchange: Answer): MisconfiguredOutcome | null {
    if (exchange.httpStatus === 401 || exchange.httpStatus === 403) {
      return misconfigured(
        exchange.httpStatus,
        `portal refused the credentials (HTTP ${exchange.httpStatus}): check the token secret`,
      );
    }
    return null;
  }

  private rejectionMessages(exchange: Answer): PortalMessage[] {
    const parsed = errorsResponseSchema.safeParse(exchange.json);
    if (parsed.success && parsed.data.length > 0) return parsed.data;
    return [
      {
        message: `portal rejected the submission (HTTP ${exchange.httpStatus}) without readable errors`,
      },
    ];
  }

  private malformed(exchange: Answer, error: z.ZodError): TransientOutcome {
    const why = exchange.unreadable ?? describeIssues(error);
    return transient(
      exchange.httpStatus,
      `malformed portal response (HTTP ${exchange.httpStatus}): ${why}`,
    );
  }

  private async exchange(
    operation: PortalCall['operation'],
    method: 'GET' | 'POST',
    url: string,
    extraHeaders: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Exchange> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = performance.now();
    const report = (status: string) =>
      this.onCall({
        funderId: this.funderId,
        operation,
        status,
        durationMs: performance.now() - started,
      });
    try {
      const response = await this.fetchFn(url, {
        method,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${this.token}`,
          ...extraHeaders,
        },
        body,
        signal: combined,
        redirect: 'manual',
      });
      const { json, unreadable } = await readBody(response);
      report(String(response.status));
      return {
        kind: 'answer',
        httpStatus: response.status,
        headers: response.headers,
        json,
        unreadable,
      };
    } catch (err) {
      // The caller's abort wins over our timeout: the caller is shutting down and wants its reason back.
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        report('timeout');
        return { kind: 'timed_out' };
      }
      report('network');
      return transient(null, `network error: ${describeNetworkError(err)}`);
    }
  }
}
