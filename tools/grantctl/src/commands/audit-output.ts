import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isoOf,
  type EvidenceTransparency,
  type GrantEventProof,
  type VerificationReport,
} from '@grantstream/audit';
import type { Undecodable } from '../audit/log-sources';
import type { ProveOutcome } from '../audit/prove-from-log';
import type { LogCheck } from '../audit/verify-audit';

/** The verify report for people: linked trails, then per grant with findings, the first bad event first. */
export function formatVerification(
  report: VerificationReport,
  undecodable: readonly Undecodable[],
): string {
  const { identical, remade } = report.redeliveries;
  const lines = [
    `${report.grants} grant(s), ${report.trails} trail(s), ${report.events} event(s) checked; ${identical} identical redelivery(ies), ${remade} decision(s) made again on a re-read (not findings)`,
  ];
  if (report.linkedTrails.length > 0) {
    lines.push(`${report.linkedTrails.length} grant(s) with several trails:`);
    for (const grant of report.linkedTrails) {
      lines.push(`  ${grant.grantId}`);
      for (const t of grant.trails) {
        const link =
          t.link === null
            ? 'no link'
            : `${t.link.kind} of ${t.link.ofTrail} (event ${t.link.eventId})`;
        lines.push(
          `    trail ${t.trailId}  started ${isoOf(t.startedAt)}  ${t.events} event(s)  ${link}`,
        );
      }
    }
  }
  for (const f of report.findings) {
    lines.push(
      `${f.kind.padEnd(18)} grant ${f.grantId}${f.trailId ? ` trail ${f.trailId}` : ''}${f.eventId ? ` event ${f.eventId}` : ''}${f.partition !== undefined ? ` at ${f.partition}/${f.offset ?? '?'}` : ''}: ${f.message}`,
    );
  }
  for (const u of undecodable)
    lines.push(
      `UNDECODABLE        key ${u.key ?? '(none)'} at ${u.partition}/${u.offset}: ${u.reason}`,
    );
  const ok = report.ok && undecodable.length === 0;
  lines.push(
    ok
      ? 'every chain intact'
      : `${report.grantsWithFindings.length} grant(s) with findings, ${undecodable.length} undecodable record(s)`,
  );
  return `${lines.join('\n')}\n`;
}

/** Writes one proof file per event into `dir`; returns their paths. */
export function writeProofFiles(
  dir: string,
  grantId: string,
  proofs: readonly GrantEventProof[],
): string[] {
  mkdirSync(dir, { recursive: true });
  return proofs.map((proof) => {
    const path = join(dir, `${grantId}.leaf-${proof.leafIndex}.proof.json`);
    writeFileSync(path, `${JSON.stringify(proof.file, null, 2)}\n`);
    return path;
  });
}

/** The bundle's transparency section from a successful prove. */
export function transparencyOf(proved: Extract<ProveOutcome, { ok: true }>): EvidenceTransparency {
  const { checkpoint, note, ref, verifierKey } = proved.chosen;
  const leaf = (index: number, key: string, eventHash: string) => ({
    leafIndex: index,
    key,
    eventHash,
  });
  return {
    checkpoint: {
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: Buffer.from(checkpoint.rootHash).toString('base64'),
      time: checkpoint.time?.toISOString() ?? null,
      note,
      verifierKey,
      ref,
    },
    proofs: proved.proofs.map((p) => p.file),
    proved: proved.proofs.map((p) => leaf(p.leafIndex, p.key, p.eventHash)),
    notCovered: proved.notCovered.map((l) => leaf(l.index, l.fields.key, l.fields.eventHash)),
  };
}

/** The Merkle log part of the verify report for people. */
export function formatLogCheck(check: LogCheck): string {
  if (!check.checked) return `Merkle log NOT checked: ${check.reason}\n`;
  const lines = [
    `Merkle log: ${check.checkpoints.verified} checkpoint(s) verified, ${check.checkpoints.refused} refused, ${check.rootsReproduced} root(s) reproduced; ${check.leaves} leaf(s), ${check.checkpointedLeaves} checkpointed, ${check.grants} grant(s)`,
  ];
  for (const f of check.findings) {
    const where = [
      f.grantId === undefined ? null : `grant ${f.grantId}`,
      f.leafIndex === undefined ? null : `leaf ${f.leafIndex}`,
      f.key === undefined ? null : `key ${f.key}`,
      f.partition === undefined ? null : `at ${f.partition}/${f.offset ?? '?'}`,
      f.checkpointSize === undefined ? null : `checkpoint ${f.checkpointSize}`,
    ].filter((p) => p !== null);
    lines.push(`${f.kind.padEnd(20)} ${where.join(' ')}: ${f.message}`);
  }
  const noticeCounts = Object.entries(check.counts)
    .filter(([kind]) => kind === 'SUPERSEDED' || kind === 'UNCHECKPOINTED')
    .map(([kind, n]) => `${n} ${kind}`);
  if (noticeCounts.length > 0) lines.push(`notices (not tampering): ${noticeCounts.join(', ')}`);
  if (check.unlisted > 0)
    lines.push(`${check.unlisted} more finding(s) or notice(s) counted but not listed`);
  lines.push(
    check.ok
      ? 'log intact: every checkpoint signed and consistent, every checkpointed event in place'
      : `${check.grantsWithFindings.length} grant(s) with log findings, ${check.findings.length - check.findings.filter((f) => f.grantId !== undefined).length} checkpoint or order finding(s)`,
  );
  return `${lines.join('\n')}\n`;
}
