/**
 * The secret values this process has read (SASL passwords, registry
 * credentials, funder tokens). Whatever resolves a secret registers it here,
 * so log lines and error messages can be scrubbed of it even when it reaches
 * them through a path no redaction rule foresaw (a URL echoed in an error, a
 * header copied into a message).
 */
const secrets = new Set<string>();

/** Shorter values are not scrubbed: replacing "a" or "1" everywhere would mangle every line. */
const MIN_SCRUBBED_LENGTH = 4;

/** What a scrubbed secret is replaced with. */
export const SCRUBBED = '[REDACTED]';

/** Remembers `value` as a secret of this process (idempotent). */
export function registerSecret(value: string): void {
  if (value.length >= MIN_SCRUBBED_LENGTH) secrets.add(value);
}

/** How many secrets are registered; lets hot paths skip scrubbing when there are none. */
export function registeredSecretCount(): number {
  return secrets.size;
}

/** `text` with every registered secret replaced by {@link SCRUBBED}. */
export function scrubSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(SCRUBBED);
  return out;
}
