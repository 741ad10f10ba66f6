import { InvalidArgumentError } from 'commander';

/** Parses a command-line option that must be a positive integer (a timeout, a poll interval). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}
