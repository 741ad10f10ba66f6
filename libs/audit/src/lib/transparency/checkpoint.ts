import { TransparencyArgumentError } from './errors';
import { MERKLE_HASH_BYTES } from './merkle';
import {
  decodeBase64Strict,
  openNote,
  signNote,
  type NoteLimits,
  type NoteRefusal,
  type NoteSigner,
  type NoteVerifier,
} from './signed-note';

/**
 * Keyword of the extension line that carries a checkpoint's time, written as
 * `time <ISO 8601 UTC instant with milliseconds>`. The C2SP checkpoint body has
 * no time field, and the issue asks for one, so it rides in an extension line:
 * it is covered by the log's signature (the log vouches for it), other
 * checkpoint readers skip it as opaque, and it reads plainly in a printed
 * evidence bundle. It is the log's own claim: C2SP notes that extension lines
 * are not auditable by monitors, so a time proved to a third party needs a
 * witness cosignature (c2sp.org/tlog-cosignature carries its own timestamp).
 */
export const CHECKPOINT_TIME_KEYWORD = 'time';

/** A signed tree head: what a C2SP tlog checkpoint states. */
export interface Checkpoint {
  /** Identity of the log, e.g. `grantstream.example/audit`; also the signing key's name. */
  readonly origin: string;
  /** Number of leaves in the tree. */
  readonly size: number;
  /** RFC 9162 root hash of the first `size` leaves. */
  readonly rootHash: Uint8Array;
  /** When the log signed it (see {@link CHECKPOINT_TIME_KEYWORD}); absent in foreign checkpoints. */
  readonly time?: Date;
  /** Other extension lines, kept verbatim and in order. */
  readonly extensions?: readonly string[];
}

/** Why a checkpoint was refused: a note-level reason or a body-level one. */
export type CheckpointRefusal =
  | NoteRefusal
  /** Fewer than the three mandatory lines (origin, size, root hash). */
  | 'TOO_FEW_LINES'
  /** An empty line in the body: every checkpoint line must be non-empty. */
  | 'EMPTY_LINE'
  /** The size line is not a decimal without sign, spaces or leading zeros. */
  | 'SIZE_NOT_DECIMAL'
  /** A size this verifier cannot represent exactly (past 2^53 - 1). */
  | 'SIZE_TOO_LARGE'
  /** The root hash line is not canonical base64 of a 32-byte hash. */
  | 'BAD_ROOT_HASH'
  /** A `time` extension line that is malformed or repeated. */
  | 'BAD_TIME'
  /** The checkpoint is from another log than the one expected. */
  | 'ORIGIN_MISMATCH';

/** A named refusal, with a detail for the report. */
export interface CheckpointRefused {
  readonly ok: false;
  readonly reason: CheckpointRefusal;
  readonly detail: string;
}

/** Outcome of {@link parseCheckpointBody}. */
export type CheckpointBodyResult =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | CheckpointRefused;

/** Outcome of {@link openCheckpoint}: the checkpoint and the trusted keys that signed it. */
export type CheckpointResult =
  | { readonly ok: true; readonly checkpoint: Checkpoint; readonly signedBy: readonly string[] }
  | CheckpointRefused;

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function requireLine(name: string, line: string): void {
  if (line.length === 0 || /[\n\r]/.test(line)) {
    throw new TransparencyArgumentError(`checkpoint ${name} must be one non-empty line`, {
      metadata: { [name]: line },
    });
  }
}

/**
 * The checkpoint's note text: origin, size, base64 root hash, then the time
 * and any other extension lines, each ending in a newline. Throws a named
 * error for a checkpoint that could not be parsed back (so the log never signs
 * what its own verifier would refuse).
 */
export function formatCheckpointBody(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, time, extensions = [] } = checkpoint;
  requireLine('origin', origin);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new TransparencyArgumentError('checkpoint size must be a non-negative safe integer', {
      metadata: { size },
    });
  }
  if (rootHash.length !== MERKLE_HASH_BYTES) {
    throw new TransparencyArgumentError('checkpoint root hash must be 32 bytes', {
      metadata: { length: rootHash.length },
    });
  }
  const lines = [origin, String(size), Buffer.from(rootHash).toString('base64')];
  if (time !== undefined) {
    if (Number.isNaN(time.getTime())) throw new TransparencyArgumentError('invalid time');
    lines.push(`${CHECKPOINT_TIME_KEYWORD} ${time.toISOString()}`);
  }
  for (const extension of extensions) {
    requireLine('extension', extension);
    if (extension.startsWith(`${CHECKPOINT_TIME_KEYWORD} `)) {
      throw new TransparencyArgumentError('give the time as checkpoint.time, not an extension');
    }
    lines.push(extension);
  }
  return `${lines.join('\n')}\n`;
}

function bodyRefusal(reason: CheckpointRefusal, detail: string): CheckpointRefused {
  return { ok: false, reason, detail };
}

function parseTime(value: string): Date | undefined {
  if (!ISO_INSTANT.test(value)) return undefined;
  const time = new Date(value);
  // The round trip refuses impossible dates the pattern lets through (month 13).
  return !Number.isNaN(time.getTime()) && time.toISOString() === value ? time : undefined;
}

/**
 * Parses a checkpoint body strictly. Only call it on text whose signature has
 * been verified ({@link openCheckpoint} does both): an unsigned body says
 * nothing.
 */
export function parseCheckpointBody(text: string): CheckpointBodyResult {
  if (!text.endsWith('\n')) return bodyRefusal('TOO_FEW_LINES', 'body does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, rootLine, ...rest] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) {
    return bodyRefusal('TOO_FEW_LINES', `${lines.length} lines, at least 3 needed`);
  }
  const empty = lines.findIndex((line) => line.length === 0);
  if (empty >= 0) return bodyRefusal('EMPTY_LINE', `line ${empty + 1} is empty`);
  if (!DECIMAL.test(sizeLine)) return bodyRefusal('SIZE_NOT_DECIMAL', JSON.stringify(sizeLine));
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) return bodyRefusal('SIZE_TOO_LARGE', sizeLine);
  const rootHash = decodeBase64Strict(rootLine);
  if (rootHash?.length !== MERKLE_HASH_BYTES) {
    return bodyRefusal('BAD_ROOT_HASH', 'not canonical base64 of 32 bytes');
  }
  let time: Date | undefined;
  const extensions: string[] = [];
  for (const line of rest) {
    if (!line.startsWith(`${CHECKPOINT_TIME_KEYWORD} `)) {
      extensions.push(line);
      continue;
    }
    const parsed = parseTime(line.slice(CHECKPOINT_TIME_KEYWORD.length + 1));
    if (parsed === undefined || time !== undefined) return bodyRefusal('BAD_TIME', line);
    time = parsed;
  }
  const checkpoint: Checkpoint = { origin, size, rootHash, extensions };
  return { ok: true, checkpoint: time === undefined ? checkpoint : { ...checkpoint, time } };
}

/** The signed checkpoint note, ready to publish to the checkpoint topic and witness store. */
export function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpointBody(checkpoint), signer);
}

/** Limits and expectations for {@link openCheckpoint}. */
export interface CheckpointExpectations extends NoteLimits {
  /** The log's origin; a checkpoint from any other log is refused. */
  readonly origin?: string;
}

/**
 * Opens a checkpoint note: verifies the signed-note envelope against the
 * trusted keys first, and only then parses the body, so unsigned text is never
 * interpreted. Every refusal is named, for an auditor's report.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  expectations: CheckpointExpectations,
): CheckpointResult {
  const opened = openNote(note, verifiers, expectations);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointBody(opened.text);
  if (!parsed.ok) return parsed;
  const { origin } = parsed.checkpoint;
  if (expectations.origin !== undefined && origin !== expectations.origin) {
    return bodyRefusal('ORIGIN_MISMATCH', `checkpoint is from ${JSON.stringify(origin)}`);
  }
  return { ok: true, checkpoint: parsed.checkpoint, signedBy: opened.signedBy };
}
