import type { RedriveReport } from '@grantstream/dead-letters';
import type { DeadLetterQuery } from '@grantstream/read-model';
import {
  redriveSetPage,
  type DeadLetterForm,
  type RedriveSetView,
} from '../pages/dead-letters.page';
import { previewFingerprint, selectForRedrive } from '../redrive/redrive-set';
import type { ConsoleDeps, Reply, RequestContext, Route } from './console-server';
import { deadLetterForm, deadLetterQuery } from './dead-letter-filter';
import { frameOf, json } from './replies';

function filterOf(form: DeadLetterForm): Omit<DeadLetterQuery, 'limit'> {
  const { limit: _limit, ...filter } = deadLetterQuery(form, 0);
  return filter;
}

/** What a request asks: the filter, force, and for a confirmation the fingerprint it confirms. */
function requestOf(ctx: RequestContext, api: boolean) {
  const yes = api ? 'true' : 'yes';
  const form = deadLetterForm(ctx.fields);
  return {
    form,
    filter: filterOf(form),
    force: ctx.fields.get('force') === yes,
    confirmed: ctx.fields.get('confirm') === yes,
    fingerprint: ctx.fields.get('fingerprint') ?? '',
  };
}

type SetResult =
  | { kind: 'refused'; status: number; reason: string }
  | { kind: 'preview'; report: RedriveReport; fingerprint: string; selected: number }
  | { kind: 'done'; report: RedriveReport; selected: number };

const tooLarge = (max: number): SetResult => ({
  kind: 'refused',
  status: 422,
  reason: `The filter selects more than ${max} dead letters (console.redrive.maxSetSize): narrow it, by time for instance. Nothing was sent.`,
});

/** The dry run of the set a request's filter selects. */
async function previewSet(
  ctx: RequestContext,
  deps: ConsoleDeps,
  api: boolean,
): Promise<SetResult> {
  const r = requestOf(ctx, api);
  const max = deps.settings.redrive.maxSetSize;
  const selection = selectForRedrive((q) => deps.store.searchDeadLetters(q), r.filter, max);
  if (selection.kind === 'too-large') return tooLarge(max);
  const operator = frameOf(ctx).principal.username;
  const report = await deps.redriver.previewSet(selection.letters, r.force, operator);
  return {
    kind: 'preview',
    report,
    fingerprint: previewFingerprint(r.filter, r.force, report),
    selected: selection.letters.length,
  };
}

/**
 * The confirmed redrive of a set: only with the confirmation and only when
 * a fresh dry run has the fingerprint of the preview being confirmed.
 * Logged with who, what and the outcome; each dead letter sent has its
 * REDRIVEN audit event naming the operator.
 */
async function confirmSet(
  ctx: RequestContext,
  deps: ConsoleDeps,
  api: boolean,
): Promise<SetResult> {
  const r = requestOf(ctx, api);
  if (!r.confirmed || r.fingerprint === '') {
    return {
      kind: 'refused',
      status: 400,
      reason: 'Nothing sent: confirm the previewed set (its fingerprint and the confirmation).',
    };
  }
  const max = deps.settings.redrive.maxSetSize;
  const selection = selectForRedrive((q) => deps.store.searchDeadLetters(q), r.filter, max);
  if (selection.kind === 'too-large') return tooLarge(max);
  const operator = frameOf(ctx).principal.username;
  const report = await deps.redriver.redriveSet(
    selection.letters,
    r.force,
    operator,
    (preview) => previewFingerprint(r.filter, r.force, preview) === r.fingerprint,
  );
  deps.logger.info(
    {
      operator,
      filter: r.filter,
      force: r.force,
      outcome: report === null ? 'changed' : 'done',
      ...(report === null
        ? {}
        : {
            redriven: report.redriven.map((s) => s.entry.position),
            refused: report.skipped.length,
          }),
    },
    'console redrive set',
  );
  if (report === null) {
    return {
      kind: 'refused',
      status: 409,
      reason:
        'Nothing sent: the set is not the one previewed any more (dead letters arrived, were redriven or changed meanwhile). Preview it again.',
    };
  }
  return { kind: 'done', report, selected: selection.letters.length };
}

function pageReply(ctx: RequestContext, deps: ConsoleDeps, result: SetResult): Reply {
  const r = requestOf(ctx, false);
  const view: RedriveSetView =
    result.kind === 'refused'
      ? { kind: 'refused', reason: result.reason }
      : result.kind === 'preview'
        ? { kind: 'preview', report: result.report, fingerprint: result.fingerprint }
        : { kind: 'done', report: result.report, operator: frameOf(ctx).principal.username };
  return {
    status: result.kind === 'refused' ? result.status : 200,
    body: redriveSetPage(frameOf(ctx), r.form, r.force, view),
  };
}

function apiReply(result: SetResult, maxSetSize: number): Reply {
  if (result.kind === 'refused') return json({ error: result.reason }, result.status);
  const body = {
    selected: result.selected,
    maxSetSize,
    redriven: result.report.redriven.map((s) => ({
      position: s.entry.position,
      grantId: s.entry.grantId,
      toTopic: s.toTopic,
      redriveCount: s.redriveCount,
      ...(result.kind === 'done' ? { eventId: s.eventId } : {}),
    })),
    refused: result.report.skipped.map((s) => ({
      position: s.entry.position,
      grantId: s.entry.grantId,
      reason: s.reason,
    })),
  };
  return json(
    result.kind === 'preview'
      ? { dryRun: true, fingerprint: result.fingerprint, ...body }
      : { dryRun: false, ...body },
  );
}

/**
 * Redriving a filtered set of dead letters, operators only: a POST for the
 * dry run (how many would go, which are refused and why, the preview's
 * fingerprint), a second POST with the confirmation and that fingerprint
 * to send. Pages under /dead-letters/set, the same in JSON under /api.
 */
export function redriveSetRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/dead-letters/set/preview',
      access: 'redrive',
      api: false,
      handle: async (ctx, deps) => pageReply(ctx, deps, await previewSet(ctx, deps, false)),
    },
    {
      method: 'POST',
      path: '/dead-letters/set/confirm',
      access: 'redrive',
      api: false,
      handle: async (ctx, deps) => pageReply(ctx, deps, await confirmSet(ctx, deps, false)),
    },
    {
      method: 'POST',
      path: '/api/dead-letters/set/preview',
      access: 'redrive',
      api: true,
      handle: async (ctx, deps) =>
        apiReply(await previewSet(ctx, deps, true), deps.settings.redrive.maxSetSize),
    },
    {
      method: 'POST',
      path: '/api/dead-letters/set/confirm',
      access: 'redrive',
      api: true,
      handle: async (ctx, deps) =>
        apiReply(await confirmSet(ctx, deps, true), deps.settings.redrive.maxSetSize),
    },
  ];
}
