import { describe, expect, it, vi } from 'vitest';
import { isPipelineError } from '@grantstream/errors';
import { WebhookClient, type WebhookClientConfig } from './webhook-client';
import { WebhookRejectedError, WebhookUnavailableError } from './webhook-errors';

const URL_ = 'http://127.0.0.1:8090/__sim/hooks/compliance-officer';
const ID = 'a'.repeat(64);
const PAYLOAD = { notification_id: ID, kind: 'COMPLIANCE_BLOCK', grant_id: 'NSF-2026-00042' };

type FetchArgs = Parameters<typeof fetch>;

function clientWith(
  answer: (init: RequestInit) => Promise<Response>,
  config: Partial<WebhookClientConfig> = {},
) {
  const calls: FetchArgs[] = [];
  const fetchFn = vi.fn((...args: FetchArgs) => {
    calls.push(args);
    return answer(args[1] ?? {});
  });
  const client = new WebhookClient(
    { url: URL_, timeoutMs: 200, token: null, ...config },
    { fetch: fetchFn as unknown as typeof fetch },
  );
  return { client, calls };
}

const respond =
  (status: number, body: string | null = null) =>
  () =>
    Promise.resolve(new Response(body, { status }));

/** A fetch that never answers until its signal aborts, as a hung receiver would. */
const hang = (init: RequestInit) =>
  new Promise<Response>((_resolve, reject) => {
    init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error));
  });

const refused = () =>
  Promise.reject(
    new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8090'), {
        code: 'ECONNREFUSED',
      }),
    }),
  );

describe('WebhookClient', () => {
  it('posts the JSON payload with the Idempotency-Key and content type', async () => {
    const { client, calls } = clientWith(respond(201, '{"stored":true}'));
    await expect(client.deliver(ID, PAYLOAD)).resolves.toEqual({ status: 201 });
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0] ?? [];
    expect(url).toBe(URL_);
    expect(init?.method).toBe('POST');
    expect(init?.headers).toEqual({ 'Content-Type': 'application/json', 'Idempotency-Key': ID });
    expect(JSON.parse(init?.body as string)).toEqual(PAYLOAD);
  });

  it('adds the bearer token only when one is configured', async () => {
    const { client, calls } = clientWith(respond(200), { token: 's3cret' });
    await client.deliver(ID, PAYLOAD);
    expect((calls[0]?.[1]?.headers as Record<string, string>)['Authorization']).toBe(
      'Bearer s3cret',
    );
  });

  it.each([200, 201, 202, 204])('takes %i as delivered', async (status) => {
    const { client } = clientWith(respond(status));
    await expect(client.deliver(ID, PAYLOAD)).resolves.toEqual({ status });
  });

  it.each<[string, (init: RequestInit) => Promise<Response>, RegExp]>([
    ['503', respond(503, '{"error":"down"}'), /answered HTTP 503/],
    ['500', respond(500), /answered HTTP 500/],
    ['502', respond(502), /answered HTTP 502/],
    ['429', respond(429), /answered HTTP 429/],
    ['408', respond(408), /answered HTTP 408/],
    ['a redirect', respond(302), /answered HTTP 302/],
    ['connection refused', refused, /could not be reached: ECONNREFUSED/],
    ['a timeout', hang, /did not answer within 200 ms/],
  ])('%s is retriable INFRASTRUCTURE', async (_name, answer, message) => {
    const { client } = clientWith(answer);
    const err = await client.deliver(ID, PAYLOAD).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookUnavailableError);
    expect(isPipelineError(err) && err.retriable).toBe(true);
    expect(isPipelineError(err) && err.category).toBe('INFRASTRUCTURE');
    expect(isPipelineError(err) && err.code).toBe('WEBHOOK_UNAVAILABLE');
    expect((err as Error).message).toMatch(message);
  });

  it.each([400, 401, 403, 404, 410, 413, 422])(
    '%i is a permanent CONFIGURATION refusal',
    async (status) => {
      const { client } = clientWith(respond(status), { token: 's3cret' });
      const err = await client.deliver(ID, PAYLOAD).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebhookRejectedError);
      expect(isPipelineError(err) && err.retriable).toBe(false);
      expect(isPipelineError(err) && err.category).toBe('CONFIGURATION');
      expect((err as Error).message).toContain(`HTTP ${status}`);
      // The token never travels in an error (errors are logged and go into dead-letter headers).
      expect(JSON.stringify((err as WebhookRejectedError).toJSON())).not.toContain('s3cret');
    },
  );

  it("hands back the caller's abort reason, not a timeout", async () => {
    const { client } = clientWith(hang, { timeoutMs: 10_000 });
    const controller = new AbortController();
    const reason = new Error('stopping');
    const delivery = client.deliver(ID, PAYLOAD, controller.signal);
    controller.abort(reason);
    await expect(delivery).rejects.toBe(reason);
  });

  it('does not call the webhook when already aborted', async () => {
    const { client, calls } = clientWith(respond(200));
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(client.deliver(ID, PAYLOAD, controller.signal)).rejects.toThrow('stopped');
    expect(calls).toHaveLength(0);
  });
});
