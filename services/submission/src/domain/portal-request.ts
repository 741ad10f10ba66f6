import type { RoutedGrantV2 } from '@grantstream/contracts';
import { canonicalJson, sha256Hex } from '@grantstream/audit';
import { idempotencyKeyOf } from '@grantstream/funders';

/** What is filed with a portal for a grant, and the key every attempt of it carries. */
export interface PortalRequest {
  body: Record<string, unknown>;
  /** SHA-256 of the body's canonical JSON: what the audit events name. */
  payloadHash: string;
  /**
   * SHA-256 of the body without its trail id: the same for every copy of the
   * same filing, whichever trail carries it.
   */
  bodyHash: string;
  /**
   * The application's content identity: the hash ingest computed
   * (`grant.content_hash`, over the submission less its transport-only
   * fields), or, for a record written before content hashes existed,
   * {@link PortalRequest.bodyHash}, equally the same for every copy.
   */
  contentHash: string;
  /** From the grant id and the content hash only: see {@link portalRequestOf}. */
  idempotencyKey: string;
}

/**
 * The portal document of a routed grant, built only from the grant itself
 * (no clock, no attempt number), and its Idempotency-Key, derived from the
 * grant id and the content hash alone: never from the trail id or anything
 * else that differs between two deliveries of the same application. Every
 * attempt, redelivery and replica, and any copy of the same content that got
 * past the duplicate check, carries the same key, so the portal files each
 * content of a grant once; a changed application gets a new key.
 */
export function portalRequestOf(routed: RoutedGrantV2): PortalRequest {
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
    // Carried for the funder's correlation with our audit trail; not part of the key.
    audit_trail_id: grant.audit_trail_id,
  };
  const payloadHash = sha256Hex(canonicalJson(body));
  const { audit_trail_id: _perMessage, ...filed } = body;
  const bodyHash = sha256Hex(canonicalJson(filed));
  const contentHash = grant.content_hash !== '' ? grant.content_hash : bodyHash;
  return {
    body,
    payloadHash,
    bodyHash,
    contentHash,
    idempotencyKey: idempotencyKeyOf(grant.grant_id, contentHash),
  };
}
