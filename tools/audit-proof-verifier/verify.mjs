#!/usr/bin/env node
// Checks one inclusion proof of the grantstream audit log, offline, with only
// Node's built-ins: no project code and no packages, so an auditor can read
// all of it. It repeats the few rules it needs on purpose:
//   - C2SP signed-note with Ed25519 (c2sp.org/signed-note),
//   - C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint),
//   - RFC 9162 §2.1.1 hashing and §2.1.3.2 inclusion verification.
//
// Usage: node verify.mjs <proof.json> [--max-bytes=N]
// Proof file (JSON object; base64 is standard, padded):
//   checkpoint     the signed checkpoint note, verbatim
//   verifierKey    "<name>+<8 hex key id>+<base64(0x01 || Ed25519 key)>"
//   leaf           base64 of the leaf bytes  (or leafHash: base64 of the
//                  32-byte RFC 9162 leaf hash; exactly one of the two)
//   leafIndex      0-based position of the leaf
//   treeSize       must equal the checkpoint's tree size
//   inclusionPath  array of base64 32-byte hashes, leaf side first
// Exit 0 "verified", 1 "not verified: <reason>", 2 for usage.
import { readFileSync, statSync } from 'node:fs';
import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';

// A proof is a few kilobytes; the cap only stops a huge file being read.
const DEFAULT_MAX_BYTES = 1024 * 1024;
// RFC 9162 sizes are 64-bit: no honest path is longer.
const MAX_PATH_HASHES = 64;

class Refused extends Error {}
const refuse = (reason) => {
  throw new Refused(reason);
};

const sha256 = (...parts) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

function base64(text, what) {
  const ok =
    typeof text === 'string' &&
    /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text);
  const bytes = ok ? Buffer.from(text, 'base64') : undefined;
  if (!bytes || bytes.toString('base64') !== text) refuse(`${what} is not canonical base64`);
  return bytes;
}

function parseVerifierKey(vkey) {
  if (typeof vkey !== 'string') refuse('verifierKey is missing');
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  const name = vkey.slice(0, Math.max(first, 0));
  const idHex = vkey.slice(first + 1, Math.max(second, 0));
  if (first < 1 || second < 0 || /\s/u.test(name) || !/^[0-9a-f]{8}$/.test(idHex))
    refuse('malformed verifier key');
  const typed = base64(vkey.slice(second + 1), 'verifier key');
  if (typed.length !== 33 || typed[0] !== 0x01) refuse('verifier key is not an Ed25519 note key');
  const raw = typed.subarray(1);
  // key id = SHA-256(name || 0x0A || 0x01 || public key)[:4]
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.of(0x0a, 0x01), raw).subarray(0, 4);
  if (keyId.toString('hex') !== idHex) refuse('verifier key id does not match its key');
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
  return { name, keyId, key };
}

function openCheckpoint(note, vk) {
  if (typeof note !== 'string' || !note.endsWith('\n'))
    refuse('checkpoint note does not end in a newline');
  for (const ch of note)
    if (ch < ' ' && ch !== '\n') refuse('checkpoint note has a control character');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) refuse('checkpoint note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  let trusted = false;
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!match) refuse('malformed signature line');
    const sig = base64(match[2], 'signature');
    if (match[1] !== vk.name || sig.length < 4 || !sig.subarray(0, 4).equals(vk.keyId)) continue;
    // Signed-note: a signature by the trusted key that fails rejects the note.
    const signature = sig.subarray(4);
    if (signature.length !== 64 || !verify(null, Buffer.from(text, 'utf8'), vk.key, signature)) {
      refuse('checkpoint signature does not verify with the verifier key');
    }
    trusted = true;
  }
  if (!trusted) refuse('checkpoint is not signed by the verifier key');
  const [origin, sizeLine, rootLine, ...rest] = text.slice(0, -1).split('\n');
  if (rootLine === undefined) refuse('checkpoint body has fewer than three lines');
  if ([origin, sizeLine, rootLine, ...rest].some((l) => l === ''))
    refuse('checkpoint body has an empty line');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    refuse('checkpoint tree size is not a decimal number');
  }
  const root = base64(rootLine, 'checkpoint root hash');
  if (root.length !== 32) refuse('checkpoint root hash is not 32 bytes');
  return { origin, size: Number(sizeLine), root, extensions: rest };
}

// RFC 9162 §2.1.3.2, step by step. Sizes may pass 2^32, so arithmetic, not
// bitwise operators, tests and shifts the bits.
function rootFromInclusion(leafIndex, treeSize, leafHash, path) {
  if (leafIndex >= treeSize) refuse(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  const odd = (n) => n % 2 === 1;
  const shift = (n) => Math.floor(n / 2);
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) refuse('inclusion path is longer than the tree is deep');
    if (odd(fn) || fn === sn) {
      r = sha256(Buffer.of(0x01), p, r);
      while (!odd(fn) && fn !== 0) {
        fn = shift(fn);
        sn = shift(sn);
      }
    } else {
      r = sha256(Buffer.of(0x01), r, p);
    }
    fn = shift(fn);
    sn = shift(sn);
  }
  if (sn !== 0) refuse('inclusion path is shorter than the tree is deep');
  return r;
}

function readProof(file, maxBytes) {
  let text;
  try {
    if (statSync(file).size > maxBytes) refuse(`proof file is larger than ${maxBytes} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof Refused) throw error;
    refuse(`cannot read ${file}: ${error.message}`);
  }
  try {
    const proof = JSON.parse(text);
    if (proof === null || typeof proof !== 'object' || Array.isArray(proof))
      throw new Error('not an object');
    return proof;
  } catch (error) {
    return refuse(`proof file is not a JSON object: ${error.message}`);
  }
}

function check(proof) {
  const { leafIndex, treeSize, inclusionPath } = proof;
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0)
    refuse('leafIndex is not a non-negative integer');
  if (!Number.isSafeInteger(treeSize) || treeSize < 1) refuse('treeSize is not a positive integer');
  if (!Array.isArray(inclusionPath)) refuse('inclusionPath is not an array');
  if (inclusionPath.length > MAX_PATH_HASHES)
    refuse(`inclusionPath has more than ${MAX_PATH_HASHES} hashes`);
  const path = inclusionPath.map((h, i) => base64(h, `inclusionPath[${i}]`));
  if (path.some((h) => h.length !== 32)) refuse('an inclusionPath hash is not 32 bytes');
  if ((proof.leaf === undefined) === (proof.leafHash === undefined))
    refuse('give exactly one of leaf or leafHash');
  const leafHash =
    proof.leaf !== undefined
      ? sha256(Buffer.of(0x00), base64(proof.leaf, 'leaf'))
      : base64(proof.leafHash, 'leafHash');
  if (leafHash.length !== 32) refuse('leafHash is not 32 bytes');

  const checkpoint = openCheckpoint(proof.checkpoint, parseVerifierKey(proof.verifierKey));
  if (treeSize !== checkpoint.size)
    refuse(`treeSize ${treeSize} is not the checkpoint size ${checkpoint.size}`);
  const root = rootFromInclusion(leafIndex, treeSize, leafHash, path);
  if (!timingSafeEqual(root, checkpoint.root))
    refuse('the leaf and path lead to another root than the checkpoint');
  return checkpoint;
}

function main(argv) {
  const maxFlag = argv.find((a) => a.startsWith('--max-bytes='));
  const files = argv.filter((a) => !a.startsWith('--'));
  const maxBytes = maxFlag ? Number(maxFlag.slice('--max-bytes='.length)) : DEFAULT_MAX_BYTES;
  if (files.length !== 1 || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    process.stderr.write('usage: node verify.mjs <proof.json> [--max-bytes=N]\n');
    return 2;
  }
  try {
    const proof = readProof(files[0], maxBytes);
    const checkpoint = check(proof);
    const time = checkpoint.extensions.find((l) => l.startsWith('time '));
    process.stdout.write(
      `verified: leaf ${proof.leafIndex} is in ${checkpoint.origin} at tree size ${checkpoint.size}` +
        `${time ? ` (checkpoint ${time})` : ''}\n`,
    );
    return 0;
  } catch (error) {
    // Anything unexpected (a key Node's crypto refuses, say) is a failure too.
    process.stderr.write(
      `not verified: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
