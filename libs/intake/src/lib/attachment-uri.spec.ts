import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAttachmentUri } from './attachment-uri';

describe('resolveAttachmentUri', () => {
  it.each([
    ['attachments/NSF-1/pd.pdf', 'file:///data/batch/attachments/NSF-1/pd.pdf'],
    // Traversal stays literal: ingest judges and records it.
    ['attachments/../../../etc/passwd', 'file:///data/batch/attachments/../../../etc/passwd'],
    ['%2e%2e/%2e%2e/etc/hostname', 'file:///data/batch/%2e%2e/%2e%2e/etc/hostname'],
    ['./a/./b.pdf', 'file:///data/batch/./a/./b.pdf'],
    ['file:///etc/passwd', 'file:///etc/passwd'],
    ['s3://bucket/key.pdf', 's3://bucket/key.pdf'],
    ['https://example.org/a.pdf', 'https://example.org/a.pdf'],
    ['/srv/files/a.pdf', 'file:///srv/files/a.pdf'],
  ])('%s -> %s', (uri, expected) => {
    expect(resolveAttachmentUri(uri, '/data/batch')).toBe(expected);
  });

  it('makes the base absolute and URI-escapes it, but not the reference', () => {
    expect(resolveAttachmentUri('x/../y.pdf', '/data/my batch/')).toBe(
      'file:///data/my%20batch/x/../y.pdf',
    );
    expect(resolveAttachmentUri('a.pdf', 'rel/dir')).toBe(
      `file://${join(process.cwd(), 'rel/dir')}/a.pdf`,
    );
  });
});
