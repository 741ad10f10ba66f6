import { InvalidArgumentError } from 'commander';

// Parsers of the commands' option values: commander calls each with the
// value given and the value so far, and prints the InvalidArgumentError.

/** A time given as ISO-8601 or epoch milliseconds. */
export function parseTime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError(`not a time: ${value} (ISO-8601 or epoch ms)`);
  return ms;
}

/** A whole number from 1, no sign, no leading zero, no exponent. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`not a positive integer: ${value}`);
  }
  return n;
}

/** A repeatable option's values, in the order given. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
