import { describe, expect, it } from 'vitest';
import { decideContent, withAccepted, type AcceptedContent } from './content-decision';

const content = (hash: string, trail: string): AcceptedContent => ({
  contentHash: hash,
  bodyHash: `body-${hash}`,
  auditTrailId: trail,
  idempotencyKey: `key-${hash}`,
  acceptedAt: 0,
});
const A = content('a', 't1');
const B = content('b', 't2');

describe('decideContent', () => {
  it.each([
    ['nothing accepted: first filing', [], 'a', 't1', { kind: 'first' }],
    ['same content, another trail: duplicate of it', [A], 'a', 't9', { kind: 'duplicate', of: A }],
    [
      'changed content: resubmission of the latest',
      [A],
      'b',
      't2',
      { kind: 'resubmission', previous: A },
    ],
    // A new consumer group re-reading history meets the first content after its resubmission.
    [
      'an older accepted content: still a duplicate',
      [A, B],
      'a',
      't9',
      { kind: 'duplicate', of: A },
    ],
    ['the latest content again: duplicate of it', [A, B], 'b', 't9', { kind: 'duplicate', of: B }],
    [
      'its own trail: the first decision again',
      [A],
      'a',
      't1',
      { kind: 'redelivery', own: A, previous: null },
    ],
    [
      'its own resubmission trail: linked as before',
      [A, B],
      'b',
      't2',
      { kind: 'redelivery', own: B, previous: A },
    ],
  ] as const)('%s', (_name, history, hash, trail, expected) => {
    expect(decideContent(history, { contentHash: hash, bodyHash: `body-${hash}` }, trail)).toEqual(
      expected,
    );
  });

  it('recognises the same filing by its body when a record carries no content hash of its own', () => {
    // A routed record written before content hashes existed: its content hash is its body hash.
    expect(decideContent([A], { contentHash: 'body-a', bodyHash: 'body-a' }, 't9')).toEqual({
      kind: 'duplicate',
      of: A,
    });
  });
});

describe('withAccepted', () => {
  it('appends, dropping the oldest beyond the bound', () => {
    const C = content('c', 't3');
    expect(withAccepted([A], B, 3)).toEqual([A, B]);
    expect(withAccepted([A, B], C, 2)).toEqual([B, C]);
  });
});
