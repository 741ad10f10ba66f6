import type { IncomingMessage } from 'node:http';

/** Cookies of a request by name (the first of a repeated name). */
export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/** Raised by {@link readBody} for a body past the limit. */
export class BodyTooLargeError extends Error {}

/** The request body, refusing more than `maxBytes` (the socket is not read further). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new BodyTooLargeError(`body of ${declared} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(`body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A form or JSON body as flat string fields; anything else is no fields. */
export function fieldsOf(contentType: string | undefined, body: Buffer): URLSearchParams {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded')
    return new URLSearchParams(body.toString('utf8'));
  if (type === 'application/json' && body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      const out = new URLSearchParams();
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) {
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
            out.set(k, String(v));
        }
      }
      return out;
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams();
}

/** A path to return to after sign-in: only a local absolute path, never another origin. */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
    return '/grants';
  return next;
}
