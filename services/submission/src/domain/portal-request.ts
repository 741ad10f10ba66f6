import type { RoutedGrantV1 } from '@grantstream/contracts';
import { canonicalJson, sha256Hex } from '@grantstream/audit';
import { idempotencyKeyOf } from '@grantstream/funders';

/** What is filed with a portal for a grant, and the key every attempt of it carries. */
export interface PortalRequest {
  body: Record<string, unknown>;
  /** SHA-256 of the body's canonical JSON: what the idempotency key and the audit events name. */
  payloadHash: string;
  idempotencyKey: string;
}

/**
 * The portal document of a routed grant, built only from the grant itself
 * (no clock, no attempt number), so every attempt, every redelivery and every
 * replica builds the same bytes and therefore the same Idempotency-Key: the
 * portal files the grant once however often it is sent.
 */
export function portalRequestOf(routed: RoutedGrantV1): PortalRequest {
  const grant = routed.grant;
  const body: Record<string, unknown> = {
    grant_id: grant.grant_id,
    funder_id: grant.funder_id,
    funder_portal: grant.funder_portal,
    submission_deadline: new Date(grant.submission_deadline).toISOString(),
    fields: grant.normalized_fields,
    attachments: grant.attachments.map((a) => ({
      filename: a.filename,
      media_type: a.media_type,
      size_bytes: a.size_bytes,
      sha256: a.sha256,
      uri: a.uri,
    })),
    compliance: {
      rule_pack_version: routed.rule_pack_version,
      tags: routed.compliance_tags,
      flags: routed.compliance_flags.map((f) => ({
        rule_id: f.rule_id,
        code: f.code,
        severity: f.severity,
        field: f.field,
      })),
    },
    audit_trail_id: grant.audit_trail_id,
  };
  const payloadHash = sha256Hex(canonicalJson(body));
  return { body, payloadHash, idempotencyKey: idempotencyKeyOf(grant.grant_id, payloadHash) };
}
