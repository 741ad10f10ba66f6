import { Inject, Injectable } from '@nestjs/common';
import { type GrantStatusV1 } from '@grantstream/contracts';
import { AUDIT_HEAD_HEADER, AUDIT_TRAIL_HEADER } from '@grantstream/audit';
import {
  ContractViolationError,
  FunderMisconfiguredError,
  StatusUnresolvedError,
  UnknownFunderError,
} from '@grantstream/errors';
import {
  GaveUpError,
  auditedRecords,
  type HandlerResult,
  type InboundMessage,
  type OutboundRecord,
  type ServiceIdentity,
} from '@grantstream/kafka';
import type { GrantLogger } from '@grantstream/logging';
import {
  STATUS_TRANSITIONS_HEADER,
  decidePoll,
  planPoll,
  transitionsOf,
  type PollOutcome,
  type StatusChange,
  type UnconfiguredFunderAction,
} from '../domain/poll-decision';
import type { FunderClient, FunderClients } from '../funder-clients';

/** Injection token of {@link StatusPollingDeps}. */
export const STATUS_POLLING_DEPS = Symbol('STATUS_POLLING_DEPS');

/** What the handlers need, provided by the module. */
export interface StatusPollingDeps {
  funders: FunderClients;
  service: ServiceIdentity;
  now: () => number;
  /** Longest a poll waits for its funder's limiter before it is rescheduled (`statusPolling.limiterWaitMs`). */
  limiterWaitMs: number;
  /** Longest any poll is put off (`statusPolling.maxPollDelayMs`). */
  maxPollDelayMs: number;
  /** Status transitions a grant may show before it is given up (`statusPolling.maxStatusTransitions`). */
  maxStatusTransitions: number;
  /** What becomes of a live status of a funder missing from `funders` (`statusPolling.unconfiguredFunders`). */
  unconfiguredFunders: UnconfiguredFunderAction;
  /** The status topics it writes: a change to `status`, an unchanged poll to `poll` (`statusPolling.topics`). */
  topics: { status: string; poll: string };
}

function unknownFunder(record: GrantStatusV1): UnknownFunderError {
  return new UnknownFunderError([
    {
      code: 'UNKNOWN_FUNDER',
      message: `no funder portal is configured for ${record.funder_id}: its status cannot be polled`,
      field: 'funder_id',
    },
  ]);
}

/** The input's audit head and trail, so a record going back on the schedule keeps the grant's chain where it was. */
function headHeadersOf(message: InboundMessage<unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of [AUDIT_HEAD_HEADER, AUDIT_TRAIL_HEADER]) {
    const value = message.headers[name];
    if (value !== undefined) headers[name] = value.toString();
  }
  return headers;
}

/** The header carrying the grant's count of published status transitions onto its next record. */
function transitionsHeader(transitions: number): Record<string, string> {
  return { [STATUS_TRANSITIONS_HEADER]: String(transitions) };
}

/**
 * One poll of one status record, shared by the handlers of grants.status.v1
 * and grants.status.poll.v1 (the same record, first published or
 * rescheduled): plan, ask the portal through the funder's limiter and
 * circuit, decide, and turn the decision into records or an error for the
 * runner to dead-letter.
 */
@Injectable()
export class StatusPoller {
  constructor(@Inject(STATUS_POLLING_DEPS) private readonly deps: StatusPollingDeps) {}

  /** The records one status record leads to, or `deferUntil` when it is not due. */
  async poll(
    message: InboundMessage<GrantStatusV1>,
    signal: AbortSignal,
    log: GrantLogger,
  ): Promise<HandlerResult> {
    const { funders, now } = this.deps;
    const record = message.value;
    const client = funders.get(record.funder_id);
    const plan = planPoll(record, client?.settings, now(), this.deps.unconfiguredFunders);
    switch (plan.kind) {
      case 'ignore':
        return { records: [] };
      case 'skip':
        log.debug(
          { grantId: record.grant_id, funderId: plan.funderId },
          'status of a funder this deployment does not follow; skipped',
        );
        return { records: [] };
      case 'defer':
        return { records: [], deferUntil: plan.untilMs };
      case 'unknown_funder':
        throw unknownFunder(record);
      case 'untrackable':
        throw new ContractViolationError(
          `status record of ${record.grant_id} is not terminal (${record.status}) but has no tracking number to poll`,
        );
      case 'poll':
        break;
    }
    if (client === undefined) throw unknownFunder(record);

    const outcome = await this.ask(client, plan.trackingNumber, signal);
    const at = now();
    const transitions = transitionsOf(message.headers[STATUS_TRANSITIONS_HEADER]?.toString());
    const decision = decidePoll(
      record,
      outcome,
      {
        ...client.settings,
        maxPollDelayMs: this.deps.maxPollDelayMs,
        maxStatusTransitions: this.deps.maxStatusTransitions,
      },
      at,
      transitions,
    );
    switch (decision.kind) {
      case 'changed':
        log.debug(
          { grantId: record.grant_id, from: decision.change.from, to: decision.change.to },
          'status changed',
        );
        return {
          records: this.changed(message, decision.next, decision.change, decision.transitions, at),
        };
      case 'reschedule':
        log.debug(
          { grantId: record.grant_id, cause: decision.cause, delayMs: decision.delayMs },
          'status poll rescheduled',
        );
        return {
          records: [
            {
              topic: this.deps.topics.poll,
              key: record.grant_id,
              value: decision.next,
              headers: { ...headHeadersOf(message), ...transitionsHeader(transitions) },
            },
          ],
        };
      case 'give_up':
        log.info(
          { grantId: record.grant_id, cause: decision.cause, polls: decision.polls },
          'status unresolved; giving up',
        );
        // Dead-lettered (with its DEAD_LETTER event, and notification's
        // STATUS_UNRESOLVED from it) counting every poll of the grant, as the
        // reason does: the runner alone would count this record's one try.
        throw new GaveUpError(
          new StatusUnresolvedError(`${record.grant_id}: ${decision.reason}`, {
            metadata: {
              grantId: record.grant_id,
              funderId: record.funder_id,
              trackingNumber: plan.trackingNumber,
              status: record.status,
              cause: decision.cause,
              ageMs: decision.ageMs,
              polls: decision.polls,
              transitions: decision.transitions,
            },
          }),
          [],
          {},
          decision.polls,
        );
      case 'misconfigured':
        throw new FunderMisconfiguredError(
          `${record.funder_id} portal refused a status poll: ${decision.reason}`,
          { metadata: { funderId: record.funder_id, httpStatus: decision.httpStatus } },
        );
    }
  }

  /** The portal's answer, or `throttled` when the funder's limiter has no slot within the wait bound. */
  private async ask(
    client: FunderClient,
    trackingNumber: string,
    signal: AbortSignal,
  ): Promise<PollOutcome> {
    const scheduled = await client.limiter.schedule(
      () => client.portal.status(trackingNumber, signal),
      { maxWaitMs: this.deps.limiterWaitMs, signal },
    );
    return scheduled.kind === 'ran' ? scheduled.value : scheduled;
  }

  /**
   * The new status on grants.status.v1 and its STATUS_CHANGED event, chained
   * to the input's head; the status record carries the grant's transitions.
   */
  private changed(
    message: InboundMessage<GrantStatusV1>,
    next: GrantStatusV1,
    change: StatusChange,
    transitions: number,
    at: number,
  ): OutboundRecord[] {
    const { service } = this.deps;
    const records = auditedRecords(
      message,
      {
        grantId: next.grant_id,
        funderId: next.funder_id,
        auditTrailId: next.audit_trail_id,
        stage: service.stage,
        action: 'STATUS_CHANGED',
        errorCategory: change.errorCategory,
        severity: change.severity,
        ruleSetVersion: null,
        service,
        occurredAt: at,
        details: change.details,
      },
      [{ topic: this.deps.topics.status, key: next.grant_id, value: next }],
    );
    return records.map((r) =>
      r.topic === this.deps.topics.status
        ? { ...r, headers: { ...r.headers, ...transitionsHeader(transitions) } }
        : r,
    );
  }
}
