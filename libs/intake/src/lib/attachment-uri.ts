import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Resolves an attachment reference of the JSON form. An absolute URI (with a
 * scheme) is kept as it is; a path-absolute reference becomes a file URI of
 * that path; any other reference is appended to the base directory's file URI
 * by string concatenation. Dot segments (`..`, `%2e%2e`) are deliberately
 * kept: whether a reference escapes the attachment root is judged, and
 * recorded, by ingest, not silently repaired here.
 */
export function resolveAttachmentUri(uri: string, attachmentsBase: string): string {
  if (SCHEME.test(uri)) return uri;
  if (uri.startsWith('/')) return `file://${uri}`;
  const base = pathToFileURL(resolve(attachmentsBase)).href.replace(/\/+$/, '');
  return `${base}/${uri}`;
}
