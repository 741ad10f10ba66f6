/** Epoch milliseconds as ISO 8601 UTC without milliseconds, or a dash. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** A `datetime-local` or ISO value from a form as epoch ms (UTC); undefined when empty or invalid. */
export function parseTime(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A form field: trimmed, undefined when empty. */
export function field(query: URLSearchParams, name: string): string | undefined {
  const v = query.get(name)?.trim();
  return v === undefined || v === '' ? undefined : v;
}
