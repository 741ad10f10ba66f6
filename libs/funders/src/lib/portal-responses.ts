import { SubmissionStatusV1Schema } from '@grantstream/contracts';
import { z } from 'zod';
import type { FoundOutcome, PortalMessage, StatusHistoryEntry } from './outcomes';

// Portals add fields over time; reading with z.object (not strict) keeps a new
// field from turning every answer into a "malformed body".

/** Body of a 200/201 answer to `POST /v2/submissions`. */
export const submitResponseSchema = z.object({
  tracking_number: z.string().min(1),
  status: SubmissionStatusV1Schema,
});

const portalMessageSchema = z.union([
  z.string().transform((message): PortalMessage => ({ message })),
  z
    .object({ field: z.string().nullish(), message: z.string() })
    .transform(({ field, message }): PortalMessage => (field ? { field, message } : { message })),
]);

/**
 * Body of a 400/422 answer, read as the portal's messages: the guide's
 * `{ errors: [{ field, message }] }`, or a single `{ error }` some portals
 * (and our simulator, for malformed requests) send instead.
 */
export const errorsResponseSchema = z.union([
  z.object({ errors: z.array(portalMessageSchema) }).transform(({ errors }) => errors),
  z
    .object({ error: z.string().min(1) })
    .transform(({ error }): PortalMessage[] => [{ message: error }]),
]);

const historyEntrySchema = z.union([
  SubmissionStatusV1Schema.transform((status): StatusHistoryEntry => ({ status, atMs: null })),
  z
    .object({
      status: SubmissionStatusV1Schema,
      /** ISO 8601 date-time or epoch milliseconds. */
      at: z.union([z.iso.datetime({ offset: true }), z.int()]).nullish(),
    })
    .transform(
      ({ status, at }): StatusHistoryEntry => ({
        status,
        atMs: typeof at === 'string' ? Date.parse(at) : (at ?? null),
      }),
    ),
]);

/**
 * Body of `GET /v2/submissions/{tracking}` and of a lookup by idempotency key:
 * one submission as the portal records it.
 */
export const submissionResourceSchema = z
  .object({
    tracking_number: z.string().min(1),
    grant_id: z.string().nullish(),
    status: SubmissionStatusV1Schema,
    status_history: z.array(historyEntrySchema).default([]),
    messages: z.array(portalMessageSchema).default([]),
    agency_tracking_number: z.string().min(1).nullish(),
  })
  .transform((body): FoundOutcome => {
    const found: FoundOutcome = {
      kind: 'found',
      trackingNumber: body.tracking_number,
      grantId: body.grant_id ?? null,
      status: body.status,
      messages: body.messages,
      history: body.status_history,
    };
    if (body.agency_tracking_number) found.agencyTrackingNumber = body.agency_tracking_number;
    return found;
  });

/**
 * A short account of why a body failed its schema: paths and zod's messages,
 * never the values, so a reason can be logged without leaking payload data.
 */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const shown = error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  const more = error.issues.length > limit ? ` (+${error.issues.length - limit} more)` : '';
  return shown.join('; ') + more;
}
