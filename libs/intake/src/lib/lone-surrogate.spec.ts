import { describe, expect, it } from 'vitest';
import { loneSurrogateProblems } from './lone-surrogate';

describe('loneSurrogateProblems', () => {
  it('names each string holding a lone surrogate by its path, in document order', () => {
    const value = JSON.parse(
      '{"grant_id":"NSF-\\ud800","metadata":{"title":"ok","note":"a\\udc00b"},' +
        '"attachments":[{"uri":"a.pdf","filename":"\\udbff.pdf"}]}',
    ) as unknown;
    expect(loneSurrogateProblems(value)).toEqual([
      { field: 'grant_id', message: expect.stringContaining('\\ud800 at offset 4') as string },
      { field: 'metadata.note', message: expect.stringContaining('\\udc00 at offset 1') as string },
      {
        field: 'attachments[0].filename',
        message: expect.stringContaining('\\udbff at offset 0') as string,
      },
    ]);
  });

  it('reports a key at its object, escaped so the report stays printable', () => {
    const [problem, ...rest] = loneSurrogateProblems(
      JSON.parse('{"metadata":{"x\\ud800":"1"}}') as unknown,
    );
    expect(rest).toEqual([]);
    expect(problem?.field).toBe('metadata');
    expect(problem?.message).toMatch(/^key "x\\ud800" holds a lone UTF-16 surrogate/);
    expect(/\p{Cs}/u.test(problem?.message ?? '')).toBe(false);
  });

  it.each([
    ['a surrogate pair', '{"t":"\\ud83c\\udf31 marsh"}'],
    ['plain text', '{"t":"Coastal Marsh","n":[1,null,true]}'],
    ['a number or null', '42'],
  ])('finds nothing in %s', (_name, text) => {
    expect(loneSurrogateProblems(JSON.parse(text) as unknown)).toEqual([]);
  });

  it.each([
    ['a high surrogate before a non-low one', '"\\ud800\\ud800"'],
    ['a low surrogate first', '"\\udc00\\ud800"'],
    ['a high surrogate at the end', '"marsh\\ud83c"'],
  ])('finds %s', (_name, text) => {
    expect(loneSurrogateProblems(JSON.parse(text) as unknown)).toHaveLength(1);
  });

  it('walks a deeply nested value without overflowing the stack', () => {
    const depth = 100_000;
    const text = `${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}`;
    const [problem] = loneSurrogateProblems(JSON.parse(text) as unknown);
    expect(problem?.field.startsWith('[0][0]')).toBe(true);
  });
});
