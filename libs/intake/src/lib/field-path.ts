/**
 * A zod or Avro issue path as people read it: `attachments.0.uri` becomes
 * `attachments[0].uri`, and the empty path `(root)`.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out || '(root)';
}
