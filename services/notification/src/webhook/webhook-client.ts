import { WebhookRejectedError, WebhookUnavailableError } from './webhook-errors';

/** A delivery the webhook accepted (2xx). */
export interface WebhookReceipt {
  /** The HTTP status it answered, recorded on the NOTIFIED audit event. */
  status: number;
}

/** Delivers one notification; the handlers depend on this, tests replace it. */
export interface WebhookSender {
  /**
   * Posts `payload` with `notificationId` as its Idempotency-Key. Resolves on
   * a 2xx; throws {@link WebhookUnavailableError} for anything that may pass
   * and {@link WebhookRejectedError} for a refusal; rethrows the reason of
   * `signal` when the caller aborts.
   */
  deliver(notificationId: string, payload: unknown, signal?: AbortSignal): Promise<WebhookReceipt>;
}

/** Where and how to post notifications (`notification.webhook`, token resolved from its secret). */
export interface WebhookClientConfig {
  url: string;
  /** Longest one delivery may take until the answer's status is known. */
  timeoutMs: number;
  /** Bearer token, or null for a webhook that takes none. */
  token: string | null;
}

/** Collaborators of a {@link WebhookClient}, injectable for tests. */
export interface WebhookClientDeps {
  /** Defaults to Node's global fetch. */
  fetch?: typeof fetch;
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

/**
 * True for answers that refuse this request for good: a 4xx, except 408
 * (the receiver timed out reading it) and 429 (it asks us to slow down).
 */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The compliance officer's webhook over HTTP: one JSON POST per delivery with
 * an Idempotency-Key, so the receiver keeps one copy however often an
 * at-least-once sender repeats it. The token goes only into the request,
 * never into errors or logs.
 */
export class WebhookClient implements WebhookSender {
  private readonly fetchFn: typeof fetch;

  constructor(
    private readonly config: WebhookClientConfig,
    deps: WebhookClientDeps = {},
  ) {
    this.fetchFn = deps.fetch ?? fetch;
  }

  async deliver(
    notificationId: string,
    payload: unknown,
    signal?: AbortSignal,
  ): Promise<WebhookReceipt> {
    signal?.throwIfAborted();
    const metadata = { notificationId };
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Idempotency-Key': notificationId,
    };
    if (this.config.token !== null) headers['Authorization'] = `Bearer ${this.config.token}`;
    let response: Response;
    try {
      response = await this.fetchFn(this.config.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        signal: combined,
        redirect: 'manual',
      });
    } catch (err) {
      // The caller's abort wins over our timeout: the runner is stopping and wants its reason back.
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new WebhookUnavailableError(
          `the webhook did not answer within ${this.config.timeoutMs} ms`,
          { metadata },
        );
      }
      throw new WebhookUnavailableError(
        `the webhook could not be reached: ${describeNetworkError(err)}`,
        { cause: err, metadata },
      );
    }
    // Only the status matters; dropping the body frees the connection at once.
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    if (status >= 200 && status < 300) return { status };
    const answer = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (isRefusal(status)) {
      throw new WebhookRejectedError(
        `the webhook refused the notification (${answer}); check notification.webhook`,
        { metadata: { ...metadata, status } },
      );
    }
    throw new WebhookUnavailableError(`the webhook answered ${answer}`, {
      metadata: { ...metadata, status },
    });
  }
}
