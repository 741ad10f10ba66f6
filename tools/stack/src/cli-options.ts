import { InvalidArgumentError } from 'commander';

/** Parses a command-line option that must be a positive integer (a timeout, a poll interval). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * Parses a run tag (the suffix of every grant id of a run and its directory's
 * name): upper-case letters and digits only, so it is safe in both.
 */
export function runTagOption(value: string): string {
  if (!/^[A-Z0-9]+$/.test(value))
    throw new InvalidArgumentError('expected upper-case letters and digits only');
  return value;
}
