import { Controller, Inject } from '@nestjs/common';
import {
  TOPICS,
  ValidatedGrantV3Avro,
  ValidatedGrantV3Schema,
  type ValidatedGrantV3,
} from '@grantstream/contracts';
import {
  StageEvent,
  auditedRecords,
  type HandlerResult,
  type InboundMessage,
  type ServiceIdentity,
} from '@grantstream/kafka';
import type { RulePackSet } from '@grantstream/rules';
import { normalizeGrant } from '../domain/normalize';

/** Injection token of {@link NormalizationDeps}. */
export const NORMALIZATION_DEPS = Symbol('NORMALIZATION_DEPS');

/** What the handler needs, provided by the module. */
export interface NormalizationDeps {
  packs: RulePackSet;
  normalizerVersion: string;
  service: ServiceIdentity;
  now: () => number;
}

/** grants.validated.v1 → grants.normalized.v1, with a NORMALIZED audit event in the same transaction. */
@Controller()
export class GrantsValidatedHandler {
  constructor(@Inject(NORMALIZATION_DEPS) private readonly deps: NormalizationDeps) {}

  @StageEvent(TOPICS.VALIDATED, { avro: ValidatedGrantV3Avro, zod: ValidatedGrantV3Schema })
  handle(message: InboundMessage<ValidatedGrantV3>): HandlerResult {
    const { packs, normalizerVersion, service, now } = this.deps;
    const grant = message.value;
    const at = now();
    const pack = packs.get(grant.funder_id);
    const normalized = normalizeGrant(grant, pack, { normalizerVersion, now: at });
    const records = auditedRecords(
      message,
      {
        grantId: grant.grant_id,
        funderId: grant.funder_id,
        auditTrailId: grant.audit_trail_id,
        stage: service.stage,
        action: 'NORMALIZED',
        ruleSetVersion: normalized.normalizer_version,
        service,
        occurredAt: at,
        details: { field_changes: String(normalized.field_changes.length) },
      },
      [{ topic: TOPICS.NORMALIZED, key: grant.grant_id, value: normalized }],
    );
    return { records };
  }
}
