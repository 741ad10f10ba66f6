import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RegistryConnectionConfig } from '@grantstream/config';
import { registryFetch } from './registry-http';

/** Only what registryFetch reads without TLS: no credentials. */
const config = { auth: null } as unknown as RegistryConnectionConfig;
/** The call's bound in these tests: short, the server below stalls far longer. */
const TIMEOUT_MS = 150;

describe('registryFetch', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A registry that answers with `body`, stalling after `sent` bytes of it until the test ends. */
  async function registry(body: string, sent: number): Promise<string> {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.write(body.slice(0, sent));
      if (sent >= body.length) res.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}/subjects`;
  }

  it('rejects itself when the body stalls past the timeout, so the caller handles it as a failed call', async () => {
    const url = await registry('{"id": 7}', 3);
    const call = registryFetch(config, undefined, url, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The headers came in time: before, the answer resolved here and its
    // body's timeout rejected later, from text(), outside the caller's try.
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('hands over a whole answer with its body read', async () => {
    const url = await registry('{"id": 7}', Number.MAX_SAFE_INTEGER);
    const res = await registryFetch(config, undefined, url, {
      signal: AbortSignal.timeout(TIMEOUT_MS * 20),
    });
    expect(res.ok).toBe(true);
    expect(await res.json()).toEqual({ id: 7 });
    expect(await res.text()).toBe('{"id": 7}');
  });
});
