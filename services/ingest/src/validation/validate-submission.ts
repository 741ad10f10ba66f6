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
import { inspectAttachment, type AttachmentStores } from '@grantstream/storage';
import {
  attachmentField,
  attachmentReferenceProblems,
  inspectedAttachmentProblems,
  orderedByAttachment,
  verifiedAttachmentsOf,
  type InspectedAttachmentFacts,
} from '../domain/attachment-problems';
import type { IngestLimits } from '../domain/ingest-limits';
import { submissionProblems } from '../domain/submission-problems';

/** What {@link validateSubmission} reads with and judges against; built once at startup. */
export interface SubmissionValidatorDeps {
  stores: Pick<AttachmentStores, 'open'>;
  packs: { get(funderId: string): RulePack | undefined };
  limits: IngestLimits;
  /** Leading bytes of each attachment kept for type sniffing. */
  sniffBytes: number;
  now: () => number;
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
  try {
    const facts = await inspectAttachment(stream, {
      maxBytes: rules.max_file_bytes,
      sniffBytes: deps.sniffBytes,
      signal,
    });
    return { ok: true, facts };
  } catch (err) {
    throw asStorageError(err, index);
  } finally {
    stream.destroy();
  }
}

/**
 * Validates a submission and streams its attachments, cheapest checks first:
 * the record itself (no I/O), then the attachment references (no bytes read),
 * then each attachment in turn, never two at once, so memory stays at one
 * sniff buffer and one chunk whatever the package holds. Resolves with the
 * verified attachments, or throws with every problem of the step that failed:
 * BusinessRuleViolationError or UnknownFunderError for the record,
 * AttachmentInvalidError for the attachments (a reference that cannot be
 * opened is reported with the rest), AttachmentStorageError when storage
 * failed in a way a retry may fix, or the signal's AbortError.
 */
export async function validateSubmission(
  sub: GrantSubmissionV2,
  deps: SubmissionValidatorDeps,
  signal?: AbortSignal,
): Promise<VerifiedAttachmentV1[]> {
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
  const problems = orderedByAttachment([
    ...openProblems,
    ...inspectedAttachmentProblems(sub.attachments, inspected, rules),
  ]);
  if (problems.length > 0) throw new AttachmentInvalidError(problems);
  return verifiedAttachmentsOf(sub.attachments, inspected as InspectedAttachmentFacts[]);
}
