import { describe, expect, it } from 'vitest';
import { fieldPath } from './field-path';

describe('fieldPath', () => {
  it.each([
    [[], '(root)'],
    [['grant_id'], 'grant_id'],
    [['attachments', 0, 'uri'], 'attachments[0].uri'],
    [['metadata', 'project_title'], 'metadata.project_title'],
    [[0], '[0]'],
  ])('%j -> %s', (path, expected) => {
    expect(fieldPath(path)).toBe(expected);
  });
});
