import type { RedriveOutcome } from '@grantstream/dead-letters';
import type { GrantQuery, StoredDeadLetter } from '@grantstream/read-model';
import { grantView } from '../domain/grant-view';
import {
  deadLetterNotFoundPage,
  deadLetterPage,
  deadLettersPage,
  type ShownHeader,
  type ShownValue,
} from '../pages/dead-letters.page';
import { field, parseTime } from '../pages/format';
import {
  grantNotFoundPage,
  grantPage,
  grantSearchPage,
  type GrantSearchForm,
} from '../pages/grants.page';
import { readModelPage } from '../pages/read-model.page';
import { signInPage } from '../pages/sign-in.page';
import { allows } from '../auth/roles';
import type { ConsoleDeps, Reply, RequestContext, Route } from './console-server';
import { deadLetterForm, deadLetterQuery } from './dead-letter-filter';
import { pipelineRoutes } from './pipeline-routes';
import { fundersRoutes } from './funders-routes';
import { redriveSetRoutes } from './redrive-routes';
import { frameOf, htmlReply, json, redirect } from './replies';
import { safeNext } from './request';

function grantForm(q: URLSearchParams): GrantSearchForm {
  return {
    grant: field(q, 'grant') ?? '',
    match: q.get('match') === 'exact' ? 'exact' : 'prefix',
    funder: field(q, 'funder') ?? '',
    status: field(q, 'status') ?? '',
    category: field(q, 'category') ?? '',
    deadlineFrom: field(q, 'deadlineFrom') ?? '',
    deadlineTo: field(q, 'deadlineTo') ?? '',
    from: field(q, 'from') ?? '',
    to: field(q, 'to') ?? '',
  };
}

function grantQuery(f: GrantSearchForm, limit: number): GrantQuery {
  const q: GrantQuery = { limit };
  if (f.grant !== '') {
    if (f.match === 'exact') q.grantId = f.grant;
    else q.grantPrefix = f.grant;
  }
  if (f.funder !== '') q.funder = f.funder;
  if (f.status !== '') q.status = f.status;
  if (f.category !== '') q.category = f.category;
  const times: [keyof GrantQuery & ('deadlineFrom' | 'deadlineTo' | 'from' | 'to'), string][] = [
    ['deadlineFrom', f.deadlineFrom],
    ['deadlineTo', f.deadlineTo],
    ['from', f.from],
    ['to', f.to],
  ];
  for (const [k, v] of times) {
    const ms = parseTime(v);
    if (ms !== undefined) q[k] = ms;
  }
  return q;
}

/** `partition:offset`, or null. */
function positionOf(text: string | undefined): { partition: number; offset: string } | null {
  const m = /^(\d{1,9}):(\d{1,19})$/.exec(text ?? '');
  return m?.[1] && m[2] ? { partition: Number(m[1]), offset: String(BigInt(m[2])) } : null;
}

const PRINTABLE = /^[\x20-\x7e\u00a0-\uffff\t]*$/;

/** A header's bytes as text when they are printable UTF-8, else as hex. */
export function shownHeader(name: string, base64: string): ShownHeader {
  const bytes = Buffer.from(base64, 'base64');
  const text = bytes.toString('utf8');
  const roundTrips = Buffer.from(text, 'utf8').equals(bytes);
  return roundTrips && PRINTABLE.test(text)
    ? { name, text, hex: false }
    : { name, text: bytes.toString('hex'), hex: true };
}

/** A dead letter's value as the page shows it: decoded with its writer schema, by reference, or hex and why. */
export async function shownValue(d: StoredDeadLetter, deps: ConsoleDeps): Promise<ShownValue> {
  if (d.entry.valueRef) {
    return {
      kind: 'reference',
      uri: d.entry.valueRef.uri,
      sha256: d.entry.valueRef.sha256,
      bytes: d.entry.valueBytes,
    };
  }
  if (d.value === null) return { kind: 'none' };
  const hex = (why: string): ShownValue => {
    const shown = d.value!.subarray(0, deps.settings.maxHexBytes);
    return {
      kind: 'hex',
      hex: shown
        .toString('hex')
        .replace(/(.{2})/g, '$1 ')
        .trim(),
      why,
      bytes: d.value!.length,
      shownBytes: shown.length,
    };
  };
  if (d.value.length < 5 || d.value[0] !== 0) {
    return hex(
      'not in the Confluent wire format (it does not start with magic byte 0 and a schema id)',
    );
  }
  try {
    const decoded = await deps.decode(d.value);
    const text = JSON.stringify(
      decoded.value,
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    );
    return { kind: 'avro', schemaId: decoded.schemaId, json: text };
  } catch (err) {
    return hex(`it does not decode: ${(err as Error).message}`);
  }
}

function storedAt(ctx: RequestContext, deps: ConsoleDeps): StoredDeadLetter | null {
  const at = positionOf(ctx.params['position']);
  return at ? deps.store.deadLetter(at.partition, at.offset) : null;
}

/** A redrive's outcome without its bytes, for the API. */
function planJson(plan: RedriveOutcome): Record<string, unknown> {
  return plan.kind === 'send'
    ? {
        kind: plan.kind,
        position: plan.entry.position,
        toTopic: plan.toTopic,
        eventId: plan.eventId,
      }
    : { kind: plan.kind, position: plan.entry.position, reason: plan.reason };
}

/** Redrives as the signed-in operator and logs who did what. */
async function redriveAs(
  ctx: RequestContext,
  deps: ConsoleDeps,
  d: StoredDeadLetter,
  force: boolean,
): Promise<RedriveOutcome> {
  const operator = frameOf(ctx).principal.username;
  const plan = await deps.redriver.redrive(d, force, operator);
  deps.logger.info(
    {
      operator,
      position: d.entry.position,
      grantId: d.entry.grantId,
      force,
      outcome: plan.kind,
      ...(plan.kind === 'refused' ? { reason: plan.reason } : { to: plan.toTopic }),
    },
    'console redrive',
  );
  return plan;
}

/** A dead letter's page, with the redrive section (a fresh dry run) for those who may redrive. */
async function deadLetterReply(
  ctx: RequestContext,
  deps: ConsoleDeps,
  outcome: string | null,
  status = 200,
): Promise<Reply> {
  const d = storedAt(ctx, deps);
  if (!d) return htmlReply(deadLetterNotFoundPage(frameOf(ctx), ctx.params['position'] ?? ''), 404);
  const frame = frameOf(ctx);
  const headers = d.headers.map((h) => shownHeader(h.name, h.base64));
  const key = d.key === null ? null : shownHeader('key', d.key.toString('base64'));
  const redrive = allows(frame.principal.role, 'redrive')
    ? { preview: await deps.redriver.preview(d, false, frame.principal.username), outcome }
    : null;
  return htmlReply(
    deadLetterPage(
      frame,
      d,
      headers,
      await shownValue(d, deps),
      key ? (key.hex ? `hex ${key.text}` : key.text) : null,
      redrive,
    ),
    status,
  );
}

/** The console's own routes (pages and JSON API); ConsoleServer adds the stylesheet and health. */
export function consoleRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/sign-in',
      access: 'public',
      api: false,
      handle: (ctx, deps) => {
        const next = safeNext(ctx.url.searchParams.get('next'));
        if (ctx.principal) return Promise.resolve(redirect(next));
        // The form's CSRF token belongs to an anonymous session, replaced at sign-in.
        const session = ctx.session ?? deps.sessions.create(null);
        return Promise.resolve(
          htmlReply(signInPage(session.csrfToken, next, null), 200, {
            'set-cookie': ctx.sessionCookie(session),
          }),
        );
      },
    },
    {
      method: 'POST',
      path: '/sign-in',
      access: 'public',
      api: false,
      handle: async (ctx, deps) => {
        const next = safeNext(ctx.fields.get('next'));
        const username = ctx.fields.get('username') ?? '';
        const principal = await deps.identity.authenticate(
          username,
          ctx.fields.get('password') ?? '',
        );
        const old = ctx.session;
        if (!principal || !old) {
          deps.logger.warn({ username }, 'console sign-in refused');
          return htmlReply(
            signInPage(
              old?.csrfToken ?? '',
              next,
              'Sign-in failed: unknown user name or wrong password.',
            ),
            401,
          );
        }
        // A new session id at sign-in: an id planted before it is worth nothing after.
        deps.sessions.end(old.id);
        const session = deps.sessions.create(principal);
        deps.logger.info({ username: principal.username, role: principal.role }, 'console sign-in');
        return redirect(next, { 'set-cookie': ctx.sessionCookie(session) });
      },
    },
    {
      method: 'POST',
      path: '/sign-out',
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        if (ctx.session) deps.sessions.end(ctx.session.id);
        return Promise.resolve(redirect('/sign-in', { 'set-cookie': ctx.clearedCookie() }));
      },
    },
    {
      method: 'GET',
      path: '/grants',
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        const form = grantForm(ctx.url.searchParams);
        const limit = deps.settings.pageSize;
        const results = deps.store.searchGrants(grantQuery(form, limit));
        return Promise.resolve(htmlReply(grantSearchPage(frameOf(ctx), form, results, limit)));
      },
    },
    {
      method: 'GET',
      path: '/grants/:id',
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        const id = ctx.params['id'] ?? '';
        const records = deps.store.grant(id);
        if (records.summary === null && records.audit.length === 0) {
          return Promise.resolve(htmlReply(grantNotFoundPage(frameOf(ctx), id), 404));
        }
        const view = grantView(id, records, deps.now());
        return Promise.resolve(
          htmlReply(grantPage(frameOf(ctx), view, allows(frameOf(ctx).principal.role, 'audit'))),
        );
      },
    },
    {
      method: 'GET',
      path: '/grants/:id/evidence.html',
      access: 'audit',
      api: false,
      handle: (ctx, deps) => {
        const id = ctx.params['id'] ?? '';
        const view = grantView(id, deps.store.grant(id), deps.now());
        const file = `evidence-${id.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
        deps.logger.info(
          { username: ctx.principal?.username, grantId: id },
          'evidence bundle downloaded',
        );
        return Promise.resolve(
          htmlReply(view.evidenceHtml, 200, {
            'content-disposition': `attachment; filename="${file}"`,
          }),
        );
      },
    },
    {
      method: 'GET',
      path: '/dead-letters',
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        const form = deadLetterForm(ctx.url.searchParams);
        const limit = deps.settings.pageSize;
        const rows = deps.store.searchDeadLetters(deadLetterQuery(form, limit));
        const frame = frameOf(ctx);
        return Promise.resolve(
          htmlReply(
            deadLettersPage(frame, form, rows, limit, allows(frame.principal.role, 'redrive')),
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/dead-letters/:position',
      access: 'view',
      api: false,
      handle: async (ctx, deps) => deadLetterReply(ctx, deps, null),
    },
    {
      method: 'POST',
      path: '/dead-letters/:position/redrive',
      access: 'redrive',
      api: false,
      handle: async (ctx, deps) => {
        const d = storedAt(ctx, deps);
        if (!d)
          return htmlReply(deadLetterNotFoundPage(frameOf(ctx), ctx.params['position'] ?? ''), 404);
        if (ctx.fields.get('confirm') !== 'yes') {
          return deadLetterReply(
            ctx,
            deps,
            'Nothing sent: confirm that the cause is fixed first.',
            400,
          );
        }
        const plan = await redriveAs(ctx, deps, d, ctx.fields.get('force') === 'yes');
        return plan.kind === 'send'
          ? deadLetterReply(
              ctx,
              deps,
              `Redriven to ${plan.toTopic} by ${frameOf(ctx).principal.username}.`,
            )
          : deadLetterReply(ctx, deps, `Not redriven: ${plan.reason}.`, 409);
      },
    },
    {
      method: 'POST',
      path: '/api/dead-letters/:position/redrive',
      access: 'redrive',
      api: true,
      handle: async (ctx, deps) => {
        const d = storedAt(ctx, deps);
        if (!d) return json({ error: 'not found' }, 404);
        const force = ctx.fields.get('force') === 'true';
        const operator = frameOf(ctx).principal.username;
        if (ctx.fields.get('dryRun') === 'true') {
          return json({
            dryRun: true,
            plan: planJson(await deps.redriver.preview(d, force, operator)),
          });
        }
        if (ctx.fields.get('confirm') !== 'true')
          return json({ error: 'confirm: true is required' }, 400);
        const plan = await redriveAs(ctx, deps, d, force);
        return json({ dryRun: false, plan: planJson(plan) }, plan.kind === 'send' ? 200 : 409);
      },
    },
    {
      method: 'GET',
      path: '/read-model',
      access: 'view',
      api: false,
      handle: (ctx, deps) =>
        Promise.resolve(htmlReply(readModelPage(frameOf(ctx), deps.lag(), deps.store.counts()))),
    },
    {
      method: 'GET',
      path: '/api/grants',
      access: 'view',
      api: true,
      handle: (ctx, deps) =>
        Promise.resolve(
          json({
            grants: deps.store.searchGrants(
              grantQuery(grantForm(ctx.url.searchParams), deps.settings.pageSize),
            ),
          }),
        ),
    },
    {
      method: 'GET',
      path: '/api/grants/:id',
      access: 'view',
      api: true,
      handle: (ctx, deps) => {
        const id = ctx.params['id'] ?? '';
        const records = deps.store.grant(id);
        if (records.summary === null && records.audit.length === 0)
          return Promise.resolve(json({ error: 'not found' }, 404));
        const { evidenceHtml: _html, ...view } = grantView(id, records, deps.now());
        return Promise.resolve(
          json({ ...view, deadLetters: view.deadLetters.map((d) => d.entry) }),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/dead-letters',
      access: 'view',
      api: true,
      handle: (ctx, deps) =>
        Promise.resolve(
          json({
            deadLetters: deps.store
              .searchDeadLetters(
                deadLetterQuery(deadLetterForm(ctx.url.searchParams), deps.settings.pageSize),
              )
              .map((d) => d.entry),
          }),
        ),
    },
    {
      method: 'GET',
      path: '/api/dead-letters/:position',
      access: 'view',
      api: true,
      handle: async (ctx, deps) => {
        const at = positionOf(ctx.params['position']);
        const d = at ? deps.store.deadLetter(at.partition, at.offset) : null;
        if (!d) return json({ error: 'not found' }, 404);
        return json({
          entry: d.entry,
          headers: d.headers.map((h) => shownHeader(h.name, h.base64)),
          value: await shownValue(d, deps),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/read-model',
      access: 'view',
      api: true,
      handle: (_ctx, deps) =>
        Promise.resolve(json({ lag: deps.lag(), counts: deps.store.counts() })),
    },
    ...pipelineRoutes(),
    ...fundersRoutes(),
    ...redriveSetRoutes(),
  ];
}
