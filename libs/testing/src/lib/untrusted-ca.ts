import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A self-signed CA certificate (PEM) no stack trusts, made with openssl in a
 * fresh temporary folder: a client configured with it must be refused by a
 * broker whose certificate another CA signed.
 */
export function untrustedCaCertificate(options: { days: number; keyBits: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'grantstream-untrusted-ca-'));
  const cert = join(dir, 'untrusted-ca.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      `rsa:${options.keyBits}`,
      '-nodes',
      '-keyout',
      join(dir, 'untrusted-ca.key'),
      '-out',
      cert,
      '-days',
      String(options.days),
      '-subj',
      '/CN=untrusted test CA',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return cert;
}
