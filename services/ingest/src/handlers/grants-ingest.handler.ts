import { Controller, Inject } from '@nestjs/common';
import {
  GrantSubmissionV2Avro,
  GrantSubmissionV2Schema,
  TOPICS,
  funderIdOf,
  type GrantSubmissionV2,
  type ValidatedGrantV3,
} from '@grantstream/contracts';
import {
  CONTENT_HASH_DETAIL,
  DISCRIMINATOR_DETAIL,
  auditTrailIdFor,
  contentHashOf,
  trailStartDiscriminator,
} from '@grantstream/audit';
import {
  StageEvent,
  auditedRecords,
  configuredSubscription,
  type HandlerResult,
  type InboundMessage,
  type ServiceIdentity,
  type StageContext,
} from '@grantstream/kafka';
import { attachmentFlagsDetail } from '../domain/attachment-problems';
import { INGEST_TOPIC_PATTERN_SETTING } from '../ingest.config';
import {
  validateSubmissionWithFlags,
  type SubmissionValidatorDeps,
} from '../validation/validate-submission';

/** Injection token of {@link IngestDeps}. */
export const INGEST_DEPS = Symbol('INGEST_DEPS');

/** What the handler needs, provided by the module. */
export interface IngestDeps {
  validator: SubmissionValidatorDeps;
  service: ServiceIdentity;
  /**
   * The stage's consumer group: part of every trail id, so a record re-read by
   * another group (a new deployment, an offset reset) starts a trail of its
   * own, which submission then links to the original as a duplicate.
   */
  consumerGroup: string;
}

/**
 * Every topic matching ingest.topicPattern (by default grants.ingest.*, so a
 * new upstream parser's topic is picked up without a restart) → grants.validated.v1 with a VALIDATED audit
 * event that starts the grant's trail and names the application's content
 * hash, which travels with the grant to submission (content idempotency). A
 * rejected submission throws its categorized error; the runner dead-letters
 * it with a DEAD_LETTER event.
 */
@Controller()
export class GrantsIngestHandler {
  constructor(@Inject(INGEST_DEPS) private readonly deps: IngestDeps) {}

  @StageEvent(configuredSubscription(INGEST_TOPIC_PATTERN_SETTING), {
    avro: GrantSubmissionV2Avro,
    zod: GrantSubmissionV2Schema,
  })
  async handle(
    message: InboundMessage<GrantSubmissionV2>,
    ctx: StageContext<GrantSubmissionV2>,
  ): Promise<HandlerResult> {
    const { validator, service, consumerGroup } = this.deps;
    const submission = message.value;
    const { verified, flags } = await validateSubmissionWithFlags(
      submission,
      validator,
      ctx.signal,
    );
    const source = {
      topic: message.topic,
      partition: message.partition,
      offset: Number(message.offset),
    };
    const at = validator.now();
    // validateSubmission has checked the grant id, so it has a funder prefix.
    const funderId = funderIdOf(submission.grant_id);
    const auditTrailId = auditTrailIdFor(source, consumerGroup);
    const contentHash = contentHashOf(submission);
    const validated: ValidatedGrantV3 = {
      grant_id: submission.grant_id,
      funder_id: funderId,
      audit_trail_id: auditTrailId,
      content_hash: contentHash,
      submission,
      verified_attachments: verified,
      source_topic: message.topic,
      validated_at: at,
    };
    const records = auditedRecords(
      message,
      {
        grantId: submission.grant_id,
        funderId,
        auditTrailId: validated.audit_trail_id,
        stage: service.stage,
        action: 'VALIDATED',
        ruleSetVersion: validator.packs.get(funderId)?.version ?? null,
        service,
        occurredAt: at,
        startsTrail: true,
        details: {
          attachments: String(verified.length),
          attachment_bytes: String(verified.reduce((n, a) => n + a.size_bytes, 0)),
          // The trail's first fact about when the funder needs it: the console's
          // read model indexes it (grants at risk), with no topic but the audit one.
          submission_deadline: new Date(submission.submission_deadline).toISOString(),
          // Structural findings the funder's pack lets pass (e.g. active content as a warning).
          ...(flags.length > 0 ? { attachment_flags: attachmentFlagsDetail(flags) } : {}),
          [CONTENT_HASH_DETAIL]: contentHash,
          // A re-read by another group shares this event's source position:
          // the trail id keeps its event_id (and Kafka key) apart.
          [DISCRIMINATOR_DETAIL]: trailStartDiscriminator(auditTrailId),
        },
      },
      [{ topic: TOPICS.VALIDATED, key: submission.grant_id, value: validated }],
    );
    return { records };
  }
}
