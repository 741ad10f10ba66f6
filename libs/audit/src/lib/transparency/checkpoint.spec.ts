import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  formatCheckpointBody,
  openCheckpoint,
  signCheckpoint,
  type Checkpoint,
  type CheckpointResult,
} from './checkpoint';
import { TransparencyArgumentError } from './errors';
import { merkleLeafHash, merkleTreeHash } from './merkle';
import {
  formatVerifierKey,
  generateNoteKey,
  noteSignerFromPrivateKey,
  openNote,
  parseVerifierKey,
  signNote,
  type NoteVerifier,
} from './signed-note';

const LIMITS = { maxNoteBytes: 4096, maxSignatures: 16 };
const ORIGIN = 'grantstream.example/audit';

// The signed-note example published with the Go note package (and the C2SP
// spec's lineage): a verifier key, the private seed behind it and the note
// it signs. Ed25519 is deterministic, so signing must reproduce it exactly.
const GO_VERIFIER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_PRIVATE_SEED = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

function ed25519FromSeed(seed: Buffer) {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): a fixed 16-byte header.
  const header = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([header, seed]), format: 'der', type: 'pkcs8' });
}

function verifierOf(verifierKey: string): NoteVerifier {
  const parsed = parseVerifierKey(verifierKey);
  if (!parsed.ok) throw new Error(`test key refused: ${parsed.reason}`);
  return parsed.verifier;
}

function reasonOf(result: { ok: boolean; reason?: string }): string {
  return result.ok ? 'OK' : (result.reason ?? 'UNKNOWN');
}

const logKey = generateNoteKey(ORIGIN);
const logVerifier = verifierOf(logKey.verifierKey);
const root = merkleTreeHash(['a', 'b', 'c'].map((leaf) => merkleLeafHash(Buffer.from(leaf))));
const checkpoint: Checkpoint = {
  origin: ORIGIN,
  size: 3,
  rootHash: root,
  time: new Date('2026-12-06T21:40:00.000Z'),
};

function open(note: string | Uint8Array): CheckpointResult {
  return openCheckpoint(note, [logVerifier], { ...LIMITS, origin: ORIGIN });
}

/** Signs an arbitrary body with the log key, to reach the body checks past the signature. */
function signedBody(body: string): string {
  return signNote(body, logKey.signer);
}

describe('signed notes against the published Go example', () => {
  it('parses the published verifier key and opens the published note', () => {
    const result = openNote(GO_NOTE, [verifierOf(GO_VERIFIER_KEY)], LIMITS);
    expect(result).toEqual({ ok: true, text: GO_TEXT, signedBy: ['PeterNeumann'] });
  });

  it('reproduces the published note byte for byte from the published seed', () => {
    const seed = Buffer.from(GO_PRIVATE_SEED, 'base64').subarray(1);
    const signer = noteSignerFromPrivateKey('PeterNeumann', ed25519FromSeed(seed));
    expect(formatVerifierKey(signer.name, signer.publicKey)).toBe(GO_VERIFIER_KEY);
    expect(signNote(GO_TEXT, signer)).toBe(GO_NOTE);
  });

  it('refuses the published note once its text changes by one letter', () => {
    const altered = GO_NOTE.replace('cryptography', 'cryptographY');
    expect(reasonOf(openNote(altered, [verifierOf(GO_VERIFIER_KEY)], LIMITS))).toBe(
      'BAD_SIGNATURE',
    );
  });
});

describe('verifier keys', () => {
  it('round-trips a generated key and its PEM', () => {
    const again = noteSignerFromPrivateKey(ORIGIN, logKey.privateKeyPem);
    expect(formatVerifierKey(again.name, again.publicKey)).toBe(logKey.verifierKey);
    expect(logVerifier.keyId).toEqual(logKey.signer.keyId);
    expect(logKey.verifierKey.startsWith(`${ORIGIN}+${logKey.signer.keyId.toString('hex')}+`)).toBe(
      true,
    );
  });

  it.each([
    ['no separators', 'PeterNeumann', 'MALFORMED_VERIFIER_KEY'],
    ['a name with a space', GO_VERIFIER_KEY.replace('Peter', 'Peter '), 'BAD_KEY_NAME'],
    ['a short key id', GO_VERIFIER_KEY.replace('c74f20a3', 'c74f20a'), 'BAD_KEY_ID'],
    ['a wrong key id', GO_VERIFIER_KEY.replace('c74f20a3', 'c74f20a4'), 'KEY_ID_MISMATCH'],
    ['another name', GO_VERIFIER_KEY.replace('Peter', 'Paul'), 'KEY_ID_MISMATCH'],
    ['another type byte', GO_VERIFIER_KEY.replace('+ARpc', '+Ahpc'), 'UNSUPPORTED_SIGNATURE_TYPE'],
    ['a truncated key', GO_VERIFIER_KEY.slice(0, -4), 'BAD_PUBLIC_KEY'],
    ['unpadded base64', `${GO_VERIFIER_KEY}=`, 'BAD_PUBLIC_KEY'],
  ])('refuses %s', (_name, key, reason) => {
    expect(reasonOf(parseVerifierKey(key))).toBe(reason);
  });

  it('refuses to sign under a name the format cannot carry, or with a non-Ed25519 key', () => {
    expect(() => generateNoteKey('two words')).toThrow(TransparencyArgumentError);
    expect(() => generateNoteKey('a+b')).toThrow(TransparencyArgumentError);
    expect(() => generateNoteKey('')).toThrow(TransparencyArgumentError);
  });
});

describe('checkpoints', () => {
  it('round-trips: sign, open, same origin, size, root and time', () => {
    const note = signCheckpoint(checkpoint, logKey.signer);
    expect(
      note.startsWith(
        `${ORIGIN}\n3\n${root.toString('base64')}\ntime 2026-12-06T21:40:00.000Z\n\n\u2014 ${ORIGIN} `,
      ),
    ).toBe(true);
    const result = open(note);
    expect(result).toEqual({
      ok: true,
      checkpoint: { ...checkpoint, rootHash: root, extensions: [] },
      signedBy: [ORIGIN],
    });
  });

  it('opens a note given as bytes, and keeps other extension lines', () => {
    const note = signCheckpoint({ ...checkpoint, extensions: ['witness-hint x'] }, logKey.signer);
    const result = open(Buffer.from(note, 'utf8'));
    expect(result.ok && result.checkpoint.extensions).toEqual(['witness-hint x']);
  });

  it('accepts a checkpoint without time and the empty tree', () => {
    const empty = { origin: ORIGIN, size: 0, rootHash: merkleTreeHash([]) };
    const result = open(signCheckpoint(empty, logKey.signer));
    expect(result.ok && result.checkpoint.size).toBe(0);
    expect(result.ok && result.checkpoint.time).toBeUndefined();
  });

  it('refuses a checkpoint signed with another key under the same name', () => {
    const impostor = generateNoteKey(ORIGIN);
    expect(reasonOf(open(signCheckpoint(checkpoint, impostor.signer)))).toBe(
      'NO_TRUSTED_SIGNATURE',
    );
  });

  it('ignores unknown cosignatures and still trusts the log signature', () => {
    const witness = generateNoteKey('witness.example');
    const note = signCheckpoint(checkpoint, logKey.signer);
    const cosigned =
      note + signNote(formatCheckpointBody(checkpoint), witness.signer).split('\n\n')[1];
    expect(open(cosigned).ok).toBe(true);
  });

  it('refuses a body altered by one byte, wherever the byte is', () => {
    const note = signCheckpoint(checkpoint, logKey.signer);
    const bodyLength = formatCheckpointBody(checkpoint).length;
    for (let i = 0; i < bodyLength - 1; i += 1) {
      const bytes = Buffer.from(note, 'utf8');
      bytes[i] = (bytes[i] ?? 0) ^ 0x01;
      const reason = reasonOf(open(bytes));
      expect(reason, `byte ${i}`).not.toBe('OK');
    }
  });

  it('refuses a signature altered by one byte', () => {
    const note = signCheckpoint(checkpoint, logKey.signer);
    const encoded = note.slice(note.lastIndexOf(' ') + 1, -1);
    const bytes = Buffer.from(encoded, 'base64');
    bytes[10] = (bytes[10] ?? 0) ^ 0x01;
    const tampered = note.replace(encoded, bytes.toString('base64'));
    expect(reasonOf(open(tampered))).toBe('BAD_SIGNATURE');
  });

  it('refuses a checkpoint from another log', () => {
    const other = generateNoteKey('elsewhere.example/log');
    const note = signCheckpoint({ ...checkpoint, origin: 'elsewhere.example/log' }, other.signer);
    const result = openCheckpoint(note, [verifierOf(other.verifierKey)], {
      ...LIMITS,
      origin: ORIGIN,
    });
    expect(reasonOf(result)).toBe('ORIGIN_MISMATCH');
  });

  it('will not sign what it could not parse back', () => {
    expect(() => signCheckpoint({ ...checkpoint, origin: 'a\nb' }, logKey.signer)).toThrow(
      TransparencyArgumentError,
    );
    expect(() => signCheckpoint({ ...checkpoint, size: -1 }, logKey.signer)).toThrow(
      TransparencyArgumentError,
    );
    expect(() =>
      signCheckpoint({ ...checkpoint, rootHash: root.subarray(2) }, logKey.signer),
    ).toThrow(TransparencyArgumentError);
    expect(() =>
      signCheckpoint(
        { ...checkpoint, extensions: ['time 2020-01-01T00:00:00.000Z'] },
        logKey.signer,
      ),
    ).toThrow(TransparencyArgumentError);
  });
});

describe('malformed checkpoint notes are refused with a named reason', () => {
  const body = formatCheckpointBody(checkpoint);
  const good = signCheckpoint(checkpoint, logKey.signer);
  const signatureLine = good.slice(good.lastIndexOf('\n\n') + 2);
  const rootLine = root.toString('base64');

  it.each([
    ['no blank line', good.replace('\n\n', '\n'), 'MISSING_BLANK_LINE'],
    ['no final newline', good.slice(0, -1), 'MISSING_FINAL_NEWLINE'],
    ['nothing after the blank line', `${body}\n`, 'NO_SIGNATURES'],
    ['a hyphen for the em dash', good.replace('\u2014', '-'), 'MALFORMED_SIGNATURE_LINE'],
    [
      'two spaces in the signature line',
      good.replace(`${ORIGIN} `, `${ORIGIN}  `),
      'MALFORMED_SIGNATURE_LINE',
    ],
    ['bad base64 in the signature', good.replace(/=\n$/, '\n'), 'BAD_BASE64'],
    ['a control character', good.replace('3\n', '3\t\n'), 'CONTROL_CHARACTER'],
    ['a lone surrogate', good.replace(ORIGIN, `${ORIGIN}\ud800`), 'INVALID_UTF8'],
    [
      'invalid UTF-8 bytes',
      Buffer.concat([Buffer.from([0xff]), Buffer.from(good)]),
      'INVALID_UTF8',
    ],
    ['an oversized note', good + 'x'.repeat(LIMITS.maxNoteBytes), 'NOTE_TOO_LARGE'],
    [
      'too many signature lines',
      good + signatureLine.repeat(LIMITS.maxSignatures),
      'TOO_MANY_SIGNATURES',
    ],
    ['size not decimal', signedBody(`${ORIGIN}\nthree\n${rootLine}\n`), 'SIZE_NOT_DECIMAL'],
    ['size with a leading zero', signedBody(`${ORIGIN}\n03\n${rootLine}\n`), 'SIZE_NOT_DECIMAL'],
    ['size with a space', signedBody(`${ORIGIN}\n3 \n${rootLine}\n`), 'SIZE_NOT_DECIMAL'],
    ['size with a sign', signedBody(`${ORIGIN}\n+3\n${rootLine}\n`), 'SIZE_NOT_DECIMAL'],
    ['size past 2^53', signedBody(`${ORIGIN}\n9007199254740993\n${rootLine}\n`), 'SIZE_TOO_LARGE'],
    [
      'root not base64',
      signedBody(`${ORIGIN}\n3\n${rootLine.replace('=', '')}\n`),
      'BAD_ROOT_HASH',
    ],
    ['root with a space', signedBody(`${ORIGIN}\n3\n ${rootLine}\n`), 'BAD_ROOT_HASH'],
    [
      'root of 16 bytes',
      signedBody(`${ORIGIN}\n3\n${root.subarray(16).toString('base64')}\n`),
      'BAD_ROOT_HASH',
    ],
    ['two lines only', signedBody(`${ORIGIN}\n3\n`), 'TOO_FEW_LINES'],
    ['an empty line in the body', signedBody(`${ORIGIN}\n3\n${rootLine}\n\nx\n`), 'EMPTY_LINE'],
    ['a malformed time', signedBody(`${ORIGIN}\n3\n${rootLine}\ntime yesterday\n`), 'BAD_TIME'],
    [
      'an impossible date',
      signedBody(`${ORIGIN}\n3\n${rootLine}\ntime 2026-13-01T00:00:00.000Z\n`),
      'BAD_TIME',
    ],
    [
      'two times',
      signedBody(
        `${ORIGIN}\n3\n${rootLine}\ntime 2026-12-06T21:40:00.000Z\ntime 2026-12-06T21:40:00.000Z\n`,
      ),
      'BAD_TIME',
    ],
  ])('%s', (_name, note, reason) => {
    expect(reasonOf(open(note))).toBe(reason);
  });
});
