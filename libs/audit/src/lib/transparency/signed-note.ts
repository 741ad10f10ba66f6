import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { TransparencyArgumentError } from './errors';

/**
 * Signature type byte of Ed25519 in the C2SP signed-note format. It is hashed
 * into the key id and prefixed to the public key in the verifier key string,
 * so the same key material under another algorithm can never be confused with
 * this one.
 */
export const ED25519_SIGNATURE_TYPE = 0x01;

const KEY_ID_BYTES = 4;
const ED25519_PUBLIC_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const EM_DASH_PREFIX = '\u2014 ';

/**
 * Bounds a verifier applies to an untrusted note before it reads it. Taken as
 * parameters (the caller's config decides) rather than fixed here; the
 * signed-note spec asks verifiers to accept at least 16 signatures.
 */
export interface NoteLimits {
  /** Largest note accepted, in UTF-8 bytes, signatures included. */
  readonly maxNoteBytes: number;
  /** Most signature lines accepted. */
  readonly maxSignatures: number;
}

/** A private Ed25519 key with the name and key id it signs notes under. */
export interface NoteSigner {
  readonly name: string;
  /** First four bytes of SHA-256(name || 0x0A || 0x01 || public key). */
  readonly keyId: Buffer;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

/** A trusted public key, as parsed from its verifier key string. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly key: KeyObject;
}

/** Why a signed note was refused; {@link openNote} never throws on untrusted input. */
export type NoteRefusal =
  /** Longer than {@link NoteLimits.maxNoteBytes}. */
  | 'NOTE_TOO_LARGE'
  /** Bytes that are not UTF-8, or a string with a lone surrogate. */
  | 'INVALID_UTF8'
  /** An ASCII control character other than newline. */
  | 'CONTROL_CHARACTER'
  /** The note does not end with a newline. */
  | 'MISSING_FINAL_NEWLINE'
  /** No blank line separates the text from the signatures. */
  | 'MISSING_BLANK_LINE'
  /** The blank line is not followed by any signature line. */
  | 'NO_SIGNATURES'
  /** More than {@link NoteLimits.maxSignatures} signature lines. */
  | 'TOO_MANY_SIGNATURES'
  /** A line after the blank line that is not `— <name> <base64>`. */
  | 'MALFORMED_SIGNATURE_LINE'
  /** Base64 that is not canonical standard padded base64. */
  | 'BAD_BASE64'
  /** A signature from a trusted key (same name and key id) that does not verify. */
  | 'BAD_SIGNATURE'
  /** No signature from any trusted key: unsigned for this verifier. */
  | 'NO_TRUSTED_SIGNATURE';

/** Outcome of {@link openNote}: the verified text, or a named refusal. */
export type NoteResult =
  | { readonly ok: true; readonly text: string; readonly signedBy: readonly string[] }
  | { readonly ok: false; readonly reason: NoteRefusal; readonly detail: string };

/** Why a verifier key string was refused by {@link parseVerifierKey}. */
export type VerifierKeyRefusal =
  | 'MALFORMED_VERIFIER_KEY'
  | 'BAD_KEY_NAME'
  | 'BAD_KEY_ID'
  | 'UNSUPPORTED_SIGNATURE_TYPE'
  | 'BAD_PUBLIC_KEY'
  | 'KEY_ID_MISMATCH';

/** Outcome of {@link parseVerifierKey}. */
export type VerifierKeyResult =
  | { readonly ok: true; readonly verifier: NoteVerifier }
  | { readonly ok: false; readonly reason: VerifierKeyRefusal; readonly detail: string };

const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard padded base64 and refuses anything else (URL alphabet,
 * missing padding, spaces, non-zero padding bits). Node's decoder skips what it
 * does not understand, which would let two different texts carry one value.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!CANONICAL_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * True for a key name the signed-note spec allows: non-empty, no Unicode
 * space, no plus (the plus separates fields of the verifier key string).
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s\u0085+]/u.test(name) && !hasForbiddenCharacter(name);
}

function hasForbiddenCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

/**
 * Key id of an Ed25519 note key, SHA-256(name || 0x0A || 0x01 || public
 * key)[:4], as the signed-note spec recommends. Binding the name and the type
 * byte means one key reused under another name or algorithm gets another id.
 */
export function noteKeyId(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519_SIGNATURE_TYPE]))
    .update(publicKey)
    .digest()
    .subarray(0, KEY_ID_BYTES);
}

function requireKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new TransparencyArgumentError('key name must be non-empty, without spaces or plus', {
      metadata: { name },
    });
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TransparencyArgumentError('not an Ed25519 key');
  return Buffer.from(x, 'base64url');
}

/**
 * A signer from an Ed25519 private key (a KeyObject or PKCS#8 PEM, as the
 * service loads it from its secret store). Other key types are refused: the
 * note's signature type byte promises Ed25519.
 */
export function noteSignerFromPrivateKey(name: string, privateKey: KeyObject | string): NoteSigner {
  requireKeyName(name);
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new TransparencyArgumentError('note keys must be Ed25519 private keys', {
      metadata: { type: key.type, algorithm: key.asymmetricKeyType },
    });
  }
  const publicKey = rawPublicKey(createPublicKey(key));
  return { name, keyId: noteKeyId(name, publicKey), publicKey, privateKey: key };
}

/** A fresh Ed25519 note key: the signer, its verifier key string and PKCS#8 PEM to store. */
export function generateNoteKey(name: string): {
  signer: NoteSigner;
  verifierKey: string;
  privateKeyPem: string;
} {
  requireKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = noteSignerFromPrivateKey(name, privateKey);
  return {
    signer,
    verifierKey: formatVerifierKey(name, signer.publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * The verifier key string `<name>+<hex key id>+<base64(0x01 || public key)>`
 * used by the Go note package and witnesses, so auditors can configure the same
 * string in other tools.
 */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  requireKeyName(name);
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new TransparencyArgumentError('Ed25519 public keys are 32 bytes', {
      metadata: { length: publicKey.length },
    });
  }
  const typed = Buffer.concat([Buffer.from([ED25519_SIGNATURE_TYPE]), publicKey]);
  return `${name}+${noteKeyId(name, publicKey).toString('hex')}+${typed.toString('base64')}`;
}

function keyRefusal(reason: VerifierKeyRefusal, detail: string): VerifierKeyResult {
  return { ok: false, reason, detail };
}

/**
 * Parses a verifier key string. The key id it states must equal the one
 * computed from the name and key: a mismatch means a corrupted or edited key,
 * and trusting the stated id would match signatures the key never made.
 */
export function parseVerifierKey(verifierKey: string): VerifierKeyResult {
  const firstPlus = verifierKey.indexOf('+');
  const secondPlus = verifierKey.indexOf('+', firstPlus + 1);
  if (firstPlus < 0 || secondPlus < 0) {
    return keyRefusal('MALFORMED_VERIFIER_KEY', 'expected <name>+<key id>+<key>');
  }
  const name = verifierKey.slice(0, firstPlus);
  const idHex = verifierKey.slice(firstPlus + 1, secondPlus);
  const encoded = verifierKey.slice(secondPlus + 1);
  if (!isValidKeyName(name)) return keyRefusal('BAD_KEY_NAME', 'empty or has spaces');
  if (!/^[0-9a-f]{8}$/.test(idHex)) return keyRefusal('BAD_KEY_ID', 'expected 8 hex digits');
  const typed = decodeBase64Strict(encoded);
  if (typed === undefined) return keyRefusal('BAD_PUBLIC_KEY', 'key is not canonical base64');
  if (typed[0] !== ED25519_SIGNATURE_TYPE) {
    return keyRefusal('UNSUPPORTED_SIGNATURE_TYPE', `type byte ${typed[0] ?? 'missing'}`);
  }
  const publicKey = typed.subarray(1);
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) {
    return keyRefusal('BAD_PUBLIC_KEY', `${publicKey.length} key bytes`);
  }
  const keyId = noteKeyId(name, publicKey);
  if (keyId.toString('hex') !== idHex) {
    return keyRefusal('KEY_ID_MISMATCH', `stated ${idHex}, computed ${keyId.toString('hex')}`);
  }
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') },
    format: 'jwk',
  });
  return { ok: true, verifier: { name, keyId, publicKey: Buffer.from(publicKey), key } };
}

/**
 * Signs a note text (which must end in a newline) and returns the whole note:
 * the text, a blank line and one signature line. Ed25519 signs the text bytes
 * exactly, final newline included and blank line excluded, as the spec says.
 */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n') || hasForbiddenCharacter(text)) {
    throw new TransparencyArgumentError('note text must end in a newline, no control characters');
  }
  const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  const encoded = Buffer.concat([signer.keyId, signature]).toString('base64');
  return `${text}\n${EM_DASH_PREFIX}${signer.name} ${encoded}\n`;
}

interface SignatureLine {
  readonly name: string;
  readonly keyId: Buffer;
  readonly signature: Buffer;
}

function noteRefusal(reason: NoteRefusal, detail: string): NoteResult {
  return { ok: false, reason, detail };
}

function decodeNote(note: string | Uint8Array, limits: NoteLimits): NoteResult {
  if (note.length > limits.maxNoteBytes) {
    return noteRefusal('NOTE_TOO_LARGE', `more than ${limits.maxNoteBytes} bytes`);
  }
  let text: string;
  if (typeof note === 'string') {
    if (/\p{Cs}/u.test(note)) return noteRefusal('INVALID_UTF8', 'lone surrogate');
    text = note;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return noteRefusal('INVALID_UTF8', 'bytes are not UTF-8');
    }
  }
  if (Buffer.byteLength(text, 'utf8') > limits.maxNoteBytes) {
    return noteRefusal('NOTE_TOO_LARGE', `more than ${limits.maxNoteBytes} bytes`);
  }
  if (hasForbiddenCharacter(text)) return noteRefusal('CONTROL_CHARACTER', 'control character');
  return { ok: true, text, signedBy: [] };
}

function parseSignatureLine(line: string): SignatureLine | NoteResult {
  if (!line.startsWith(EM_DASH_PREFIX)) {
    return noteRefusal('MALFORMED_SIGNATURE_LINE', 'line does not start with an em dash');
  }
  const fields = line.slice(EM_DASH_PREFIX.length).split(' ');
  const [name, encoded] = fields;
  if (fields.length !== 2 || name === undefined || encoded === undefined) {
    return noteRefusal('MALFORMED_SIGNATURE_LINE', 'expected a key name and a signature');
  }
  if (!isValidKeyName(name)) return noteRefusal('MALFORMED_SIGNATURE_LINE', 'bad key name');
  const bytes = decodeBase64Strict(encoded);
  if (bytes === undefined) return noteRefusal('BAD_BASE64', `signature by ${name}`);
  if (bytes.length <= KEY_ID_BYTES) {
    return noteRefusal('MALFORMED_SIGNATURE_LINE', `signature by ${name} is too short`);
  }
  return { name, keyId: bytes.subarray(0, KEY_ID_BYTES), signature: bytes.subarray(KEY_ID_BYTES) };
}

function splitNote(
  note: string,
  limits: NoteLimits,
): { text: string; lines: SignatureLine[] } | NoteResult {
  if (!note.endsWith('\n')) return noteRefusal('MISSING_FINAL_NEWLINE', 'no final newline');
  // The text may itself hold blank lines; the last one starts the signatures.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return noteRefusal('MISSING_BLANK_LINE', 'no blank line before signatures');
  const block = note.slice(split + 2);
  if (block.length === 0) return noteRefusal('NO_SIGNATURES', 'nothing after the blank line');
  const raw = block.slice(0, -1).split('\n', limits.maxSignatures + 1);
  if (raw.length > limits.maxSignatures) {
    return noteRefusal('TOO_MANY_SIGNATURES', `more than ${limits.maxSignatures}`);
  }
  const lines: SignatureLine[] = [];
  for (const line of raw) {
    const parsed = parseSignatureLine(line);
    if ('ok' in parsed) return parsed;
    lines.push(parsed);
  }
  return { text: note.slice(0, split + 1), lines };
}

/**
 * Opens a signed note: checks its shape strictly and within `limits`, then
 * its signatures against the trusted `verifiers`. Signatures by unknown keys
 * are ignored, as the spec requires (witness cosignatures, a rotated key); a
 * signature by a trusted key that fails refuses the whole note. The text is
 * returned only when at least one trusted signature verifies.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  limits: NoteLimits,
): NoteResult {
  const decoded = decodeNote(note, limits);
  if (!decoded.ok) return decoded;
  const parts = splitNote(decoded.text, limits);
  if ('ok' in parts) return parts;
  const message = Buffer.from(parts.text, 'utf8');
  const signedBy: string[] = [];
  for (const line of parts.lines) {
    const verifier = verifiers.find((v) => v.name === line.name && v.keyId.equals(line.keyId));
    if (verifier === undefined) continue;
    const valid =
      line.signature.length === ED25519_SIGNATURE_BYTES &&
      verify(null, message, verifier.key, line.signature);
    if (!valid) return noteRefusal('BAD_SIGNATURE', `signature by ${line.name} does not verify`);
    signedBy.push(line.name);
  }
  if (signedBy.length === 0) {
    return noteRefusal('NO_TRUSTED_SIGNATURE', 'no signature from a trusted key');
  }
  return { ok: true, text: parts.text, signedBy };
}

/** A signature line's key, as stated in the note (not verified). */
export interface StatedNoteSigner {
  readonly name: string;
  /** The four key id bytes the line states, as 8 hex digits. */
  readonly keyId: string;
}

/**
 * Lists who a note says signed it, without verifying anything, so a refusal
 * can name the key that signed instead (e.g. "signed by audit-2025+1a2b3c4d,
 * which is not a trusted key"). Empty for a note whose shape {@link openNote}
 * would refuse. Never use the result to trust a note: only {@link openNote}
 * verifies.
 */
export function statedNoteSigners(note: string, limits: NoteLimits): StatedNoteSigner[] {
  const decoded = decodeNote(note, limits);
  if (!decoded.ok) return [];
  const parts = splitNote(decoded.text, limits);
  if ('ok' in parts) return [];
  return parts.lines.map((line) => ({ name: line.name, keyId: line.keyId.toString('hex') }));
}
