import { constants } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  formatVerifierKey,
  generateNoteKey,
  noteSignerFromPrivateKey,
  parseVerifierKey,
  type NoteSigner,
  type NoteVerifier,
} from '@grantstream/audit';
import { ConfigError } from '@grantstream/errors';

/** The log's signer and the verifier of its own checkpoints. */
export interface LogKey {
  signer: NoteSigner;
  verifier: NoteVerifier;
  /** `<origin>+<key id>+<base64 key>`: what auditors configure (audit.log.verifierKeys). */
  verifierKey: string;
  /** Whether the key was created by this start (local stack only). */
  created: boolean;
}

/**
 * Loads the Ed25519 signing key from its file (a mounted secret). With
 * `createIfMissing` (the local stack), a missing file is created once: the
 * PKCS#8 PEM with mode 0600, created exclusively so two replicas starting
 * together cannot each write a key, and `<file>.pub` with the verifier key.
 * @throws ConfigError when the file is missing (and not to be created) or holds no Ed25519 key.
 */
export async function loadLogKey(
  origin: string,
  file: string,
  createIfMissing: boolean,
): Promise<LogKey> {
  let pem: string;
  let created = false;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !createIfMissing) {
      throw new ConfigError([`checkpointer.signingKey.file ${file}: ${(err as Error).message}`]);
    }
    const fresh = generateNoteKey(origin);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    try {
      const handle = await open(
        file,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
        0o600,
      );
      try {
        await handle.writeFile(fresh.privateKeyPem, 'utf8');
      } finally {
        await handle.close();
      }
      await writeFile(`${file}.pub`, `${fresh.verifierKey}\n`, { mode: 0o644 });
      created = true;
    } catch (raced) {
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
    }
    pem = await readFile(file, 'utf8');
  }
  let signer: NoteSigner;
  try {
    signer = noteSignerFromPrivateKey(origin, pem);
  } catch (err) {
    throw new ConfigError([`checkpointer.signingKey.file ${file}: ${(err as Error).message}`]);
  }
  const verifierKey = formatVerifierKey(origin, signer.publicKey);
  const parsed = parseVerifierKey(verifierKey);
  if (!parsed.ok) throw new ConfigError([`checkpointer.origin ${origin}: ${parsed.detail}`]);
  return { signer, verifier: parsed.verifier, verifierKey, created };
}
