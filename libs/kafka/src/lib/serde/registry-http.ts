import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RegistryConnectionConfig } from '@grantstream/config';
import { registerSecret } from '@grantstream/errors';
import { tlsOptionsOf } from '../kafka-client';

/** The part of a fetch Response the registry calls read. */
export interface RegistryResponse {
  ok: boolean;
  status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/** A registry call: what fetch takes, bounded by `signal`. */
export interface RegistryRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * The Authorization header of the configured registry credentials, read when
 * called (a rotated Secret file is picked up by the next call); none without.
 */
export function registryAuthHeaders(config: RegistryConnectionConfig): Record<string, string> {
  const auth = config.auth;
  if (!auth) return {};
  if (auth.kind === 'bearer') return { Authorization: `Bearer ${auth.token.reveal()}` };
  const basic = Buffer.from(`${auth.username}:${auth.password.reveal()}`).toString('base64');
  // The encoded pair is as good as the password: scrub it from lines too.
  registerSecret(basic);
  return { Authorization: `Basic ${basic}` };
}

/** An https agent trusting the configured CA (and presenting a client certificate), or undefined. */
export function registryAgent(config: RegistryConnectionConfig): HttpsAgent | undefined {
  return config.tls ? new HttpsAgent({ ...tlsOptionsOf(config.tls), keepAlive: true }) : undefined;
}

/**
 * fetch, with the body read before the answer is handed over: the signal's
 * timeout also bounds the body, and a timeout while reading it rejects here,
 * inside the caller's handling of a failed call, not later from `text()`
 * (where it escaped as a bare TimeoutError, a handler bug to the runner, and
 * dead-lettered an input for a slow registry).
 */
async function fetchWhole(url: string, init: RequestInit): Promise<RegistryResponse> {
  const res = await fetch(url, init);
  const body = await res.text();
  return {
    ok: res.ok,
    status: res.status,
    text: () => Promise.resolve(body),
    json: () => Promise.resolve(JSON.parse(body) as unknown),
  };
}

/**
 * Calls the registry with its credentials. Without a registry CA this is
 * fetch; with one, node:https with an agent trusting it (fetch takes no CA).
 */
export function registryFetch(
  config: RegistryConnectionConfig,
  agent: HttpsAgent | undefined,
  url: string,
  init: RegistryRequest = {},
): Promise<RegistryResponse> {
  const headers = { ...init.headers, ...registryAuthHeaders(config) };
  if (!agent) return fetchWhole(url, { ...init, headers });
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: init.method ?? 'GET', headers, agent, signal: init.signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            text: () => Promise.resolve(body),
            json: () => Promise.resolve(JSON.parse(body) as unknown),
          });
        });
      },
    );
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}
