import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReadBody } from '../domain/portal';

/**
 * Reads a request body up to `limit` bytes. Past the limit the rest is read
 * and discarded, so memory stays bounded while the client still gets an answer.
 * Rejects when the client goes away before the end.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) return;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      ended = true;
      resolve(
        tooLarge ? { kind: 'too-large' } : { kind: 'text', text: Buffer.concat(chunks).toString() },
      );
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) reject(new Error('client closed the request before its end'));
    });
  });
}

/** One header's value; repeated headers are joined by node already, except for arrays. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Writes a JSON answer unless the client is already gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Whether the peer is on this machine: control endpoints answer nobody else. */
export function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined &&
    (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
  );
}
