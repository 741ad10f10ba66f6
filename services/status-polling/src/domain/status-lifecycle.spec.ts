import { describe, expect, it } from 'vitest';
import { SubmissionStatusV1Schema, type SubmissionStatusV1 } from '@grantstream/contracts';
import {
  formatPortalMessage,
  isTerminalRecord,
  isTerminalStatus,
  joinMessages,
} from './status-lifecycle';

describe('isTerminalStatus', () => {
  const cases: [SubmissionStatusV1, boolean][] = [
    ['RECEIVED', false],
    ['PROCESSING', false],
    ['VALIDATED', false],
    ['RECEIVED_BY_AGENCY', false],
    ['AGENCY_TRACKING_NUMBER_ASSIGNED', true],
    ['REJECTED_WITH_ERRORS', true],
  ];

  it.each(cases)('%s -> %s', (status, terminal) => {
    expect(isTerminalStatus(status)).toBe(terminal);
  });

  it('covers every status of the contract', () => {
    expect(cases.map(([s]) => s).sort()).toEqual([...SubmissionStatusV1Schema.options].sort());
  });
});

describe('isTerminalRecord', () => {
  const cases: [string, SubmissionStatusV1, boolean, boolean][] = [
    ['live status, live flag', 'PROCESSING', false, false],
    ['terminal status, terminal flag', 'AGENCY_TRACKING_NUMBER_ASSIGNED', true, true],
    ['terminal status, live flag', 'REJECTED_WITH_ERRORS', false, true],
    ['live status, terminal flag', 'VALIDATED', true, true],
  ];

  it.each(cases)('%s', (_name, status, terminal, expected) => {
    expect(isTerminalRecord({ status, terminal })).toBe(expected);
  });
});

describe('formatPortalMessage', () => {
  it.each([
    [{ field: 'budget', message: 'over the cap' }, 'budget: over the cap'],
    [{ message: 'missing narrative' }, 'missing narrative'],
    [{ field: '', message: 'empty field name' }, 'empty field name'],
  ])('%o -> %s', (message, expected) => {
    expect(formatPortalMessage(message)).toBe(expected);
  });
});

describe('joinMessages', () => {
  it.each([
    [[], 10, ''],
    [['a', 'b'], 10, 'a; b'],
    [['abcde', 'fgh'], 10, 'abcde; fgh'],
    [['abcde', 'fghi'], 10, 'abcde; fg…'],
    [['abcdefghijklmnop'], 5, 'abcd…'],
  ])('%o within %i chars -> %s', (messages, max, expected) => {
    const joined = joinMessages(messages, max);
    expect(joined).toBe(expected);
    expect(joined.length).toBeLessThanOrEqual(max);
  });
});
