import type { Readable } from 'node:stream';
import {
  funderIdOrNull,
  type GrantSubmissionV2,
  type VerifiedAttachmentV1,
} from '@grantstream/contracts';
import {
  AttachmentInvalidError,
  AttachmentStorageError,
  BusinessRuleViolationError,
  UnknownFunderError,
  isPipelineError,
  type InputProblem,
} from '@grantstream/errors';
import type { AttachmentRules, RulePack } from '@grantstream/rules';
import {
  inspectAttachment,
  type AttachmentStores,
  type RangeReader,
  type StructureLimits,
} from '@grantstream/storage';
import {
  attachmentField,
  attachmentReferenceProblems,
  inspectedAttachmentProblems,
  integrityVerdict,
  orderedByAttachment,
  verifiedAttachmentsOf,
  type AttachmentFlag,
  type InspectedAttachmentFacts,
} from '../domain/attachment-problems';
import type { IngestLimits } from '../domain/ingest-limits';
import { submissionProblems } from '../domain/submission-problems';

/** What {@link validateSubmission} reads with and judges against; built once at startup. */
export interface SubmissionValidatorDeps {
  /** Opens attachments; `readRange`, when the stores have it, lets a trailer check look past the kept tail. */
  stores: Pick<AttachmentStores, 'open'> & Partial<Pick<AttachmentStores, 'readRange'>>;
  packs: { get(funderId: string): RulePack | undefined };
  limits: IngestLimits;
  /** Leading bytes of each attachment kept for type sniffing. */
  sniffBytes: number;
  /** Bounds of the structural check by type made while streaming. */
  inspect: StructureLimits;
  now: () => number;
}

/** A submission that passed: its verified attachments and the findings that passed as flags. */
export interface ValidatedSubmission {
  verified: VerifiedAttachmentV1[];
  flags: AttachmentFlag[];
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Anything a store or its stream throws that is not already classified may pass: retry it. */
function asStorageError(err: unknown, index: number): unknown {
  if (isPipelineError(err) || isAbort(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new AttachmentStorageError(`reading ${attachmentField(index)} failed: ${reason}`, {
    cause: err,
  });
}

type Inspection =
  | { ok: true; facts: InspectedAttachmentFacts }
  | { ok: false; problems: InputProblem[] };

async function inspectOne(
  uri: string,
  index: number,
  rules: AttachmentRules,
  deps: SubmissionValidatorDeps,
  signal: AbortSignal | undefined,
): Promise<Inspection> {
  let stream: Readable;
  try {
    stream = await deps.stores.open(uri, { signal });
  } catch (err) {
    // A bad reference is one more problem of the package, reported with the others.
    if (err instanceof AttachmentInvalidError) {
      const field = attachmentField(index);
      return { ok: false, problems: err.problems.map((p) => ({ ...p, field })) };
    }
    throw asStorageError(err, index);
  }
  const { readRange: rangeOf } = deps.stores;
  const readRange: RangeReader | undefined = rangeOf
    ? (start, length) => rangeOf.call(deps.stores, uri, { start, length }, { signal })
    : undefined;
  try {
    const facts = await inspectAttachment(stream, {
      maxBytes: rules.max_file_bytes,
      sniffBytes: deps.sniffBytes,
      signal,
      structure: { limits: deps.inspect, readRange },
    });
    return { ok: true, facts };
  } catch (err) {
    throw asStorageError(err, index);
  } finally {
    stream.destroy();
  }
}

/**
 * {@link validateSubmissionWithFlags} without the flags, for callers that
 * record only the verified attachments.
 */
export async function validateSubmission(
  sub: GrantSubmissionV2,
  deps: SubmissionValidatorDeps,
  signal?: AbortSignal,
): Promise<VerifiedAttachmentV1[]> {
  return (await validateSubmissionWithFlags(sub, deps, signal)).verified;
}

/**
 * Validates a submission and streams its attachments, cheapest checks first:
 * the record itself (no I/O), then the attachment references (no bytes read),
 * then each attachment in turn, never two at once, so memory stays at one
 * sniff buffer, one tail window and one chunk whatever the package holds.
 * Each attachment's structure is checked by type in the same pass, and its
 * findings ranked by the funder's pack: CRITICAL ones are problems like any
 * other, the rest come back as flags. Resolves with the verified
 * attachments and flags, or throws with every problem of the step that failed:
 * BusinessRuleViolationError or UnknownFunderError for the record,
 * AttachmentInvalidError for the attachments (a reference that cannot be
 * opened is reported with the rest), AttachmentStorageError when storage
 * failed in a way a retry may fix, or the signal's AbortError.
 */
export async function validateSubmissionWithFlags(
  sub: GrantSubmissionV2,
  deps: SubmissionValidatorDeps,
  signal?: AbortSignal,
): Promise<ValidatedSubmission> {
  const funderId = funderIdOrNull(sub.grant_id);
  const pack = funderId === null ? undefined : deps.packs.get(funderId);
  const verdict = submissionProblems(sub, {
    limits: deps.limits,
    knownFunders: new Set(pack && funderId !== null ? [funderId] : []),
    now: deps.now(),
  });
  if (verdict) {
    throw verdict.category === 'UNKNOWN_FUNDER'
      ? new UnknownFunderError(verdict.problems)
      : new BusinessRuleViolationError(verdict.problems);
  }
  if (!pack) throw new Error('submissionProblems accepted a grant without a rule pack');

  const rules = pack.attachments;
  const referenceProblems = attachmentReferenceProblems(sub.attachments, rules, deps.limits);
  if (referenceProblems.length > 0) throw new AttachmentInvalidError(referenceProblems);

  const openProblems: InputProblem[] = [];
  const inspected: (InspectedAttachmentFacts | undefined)[] = [];
  for (const [index, ref] of sub.attachments.entries()) {
    signal?.throwIfAborted();
    const inspection = await inspectOne(ref.uri, index, rules, deps, signal);
    if (inspection.ok) inspected[index] = inspection.facts;
    else openProblems.push(...inspection.problems);
  }
  const integrity = integrityVerdict(sub.attachments, inspected, pack);
  const problems = orderedByAttachment([
    ...openProblems,
    ...inspectedAttachmentProblems(sub.attachments, inspected, rules),
    ...integrity.blocking,
  ]);
  if (problems.length > 0) throw new AttachmentInvalidError(problems);
  return {
    verified: verifiedAttachmentsOf(sub.attachments, inspected as InspectedAttachmentFacts[]),
    flags: integrity.flags,
  };
}
