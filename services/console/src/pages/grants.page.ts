import type { EvidenceTimelineEntry } from '@grantstream/audit';
import type { GrantOrder, GrantSummary } from '@grantstream/read-model';
import type { Principal } from '../auth/roles';
import type { GrantView } from '../domain/grant-view';
import { html, type SafeHtml } from '../http/html';
import { page } from '../http/layout';
import { when } from './format';

/** The fields of the grant search form, as submitted. */
export interface GrantSearchForm {
  grant: string;
  match: 'prefix' | 'exact';
  funder: string;
  status: string;
  category: string;
  deadlineFrom: string;
  deadlineTo: string;
  from: string;
  to: string;
}

const input = (id: keyof GrantSearchForm, label: string, value: string, type = 'text') =>
  html`<label for="${id}"
    >${label}<input id="${id}" name="${id}" type="${type}" value="${value}"
  /></label>`;

/** The search's order as the read model applies it (grantOrderOf), in words. */
const ORDER_CAPTION: Record<GrantOrder, string> = {
  'grant-id': 'Grants by grant id',
  deadline: 'Grants, soonest deadline first',
  recent: 'Grants, most recently active first',
};

function orderOf(form: GrantSearchForm): GrantOrder {
  if (form.grant !== '') return 'grant-id';
  if (form.deadlineFrom !== '' || form.deadlineTo !== '') return 'deadline';
  return 'recent';
}

/** Grant search: the form and the grants it found, in the order the search gets. */
export function grantSearchPage(
  frame: { principal: Principal; csrfToken: string },
  form: GrantSearchForm,
  results: readonly GrantSummary[],
  limit: number,
): string {
  return page(
    { title: 'Grants', ...frame, current: 'grants' },
    html`<form class="search" method="get" action="/grants" role="search" aria-label="Grant search">
        ${input('grant', 'Grant id', form.grant)}
        <label for="match"
          >Match<select id="match" name="match">
            <option value="prefix" ${form.match === 'prefix' ? html` selected` : ''}>
              starts with
            </option>
            <option value="exact" ${form.match === 'exact' ? html` selected` : ''}>exactly</option>
          </select></label
        >
        ${input('funder', 'Funder', form.funder)} ${input('status', 'Status', form.status)}
        ${input('category', 'Error category', form.category)}
        ${input('deadlineFrom', 'Deadline from (UTC)', form.deadlineFrom, 'datetime-local')}
        ${input('deadlineTo', 'Deadline before (UTC)', form.deadlineTo, 'datetime-local')}
        ${input('from', 'Active from (UTC)', form.from, 'datetime-local')}
        ${input('to', 'Active before (UTC)', form.to, 'datetime-local')}
        <button type="submit">Search</button>
      </form>
      <p class="note" role="status">
        ${results.length} grant(s)${results.length >= limit ? ` (first ${limit} shown)` : ''}
      </p>
      <table>
        <caption class="note">
          ${ORDER_CAPTION[orderOf(form)]}
        </caption>
        <thead>
          <tr>
            <th scope="col">Grant</th>
            <th scope="col">Funder</th>
            <th scope="col">Status</th>
            <th scope="col">Last decision</th>
            <th scope="col">Tracking number</th>
            <th scope="col">Deadline</th>
            <th scope="col">Last activity</th>
            <th scope="col">Dead letters</th>
          </tr>
        </thead>
        <tbody>
          ${results.map(
            (g) =>
              html`<tr>
                <td><a href="/grants/${encodeURIComponent(g.grantId)}">${g.grantId}</a></td>
                <td>${g.funderId ?? '—'}</td>
                <td>${g.state ?? '—'}</td>
                <td>${g.lastStage ?? ''} ${g.lastAction ?? ''}</td>
                <td>${g.trackingNumber ?? '—'}</td>
                <td>${when(g.deadline)}</td>
                <td>${when(g.lastAt)}</td>
                <td>${g.deadLetters}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

function detailsList(d: Record<string, string>): SafeHtml {
  const entries = Object.entries(d);
  if (entries.length === 0) return html``;
  return html`<ul class="details">
    ${entries.map(([k, v]) => html`<li><code>${k}</code>: ${v}</li>`)}
  </ul>`;
}

function timelineRow(e: EvidenceTimelineEntry, brokenEventId: string | null): SafeHtml {
  const broken = brokenEventId !== null && e.eventId === brokenEventId;
  return html`<tr${broken ? html` class="broken" id="broken-event"` : ''} data-event-id="${e.eventId}">
<td>${e.position}${broken ? html` <strong>(first broken)</strong>` : ''}</td>
<td>${when(e.occurredAt)}</td><td>${e.stage}</td><td>${e.action}</td>
<td>${e.errorCategory ?? ''}${e.severity ? ` (${e.severity})` : ''}</td>
<td>${e.ruleSetVersion ?? '—'}</td><td>${e.attempt ?? '—'}</td><td>${e.trackingNumber ?? '—'}</td><td>${e.status ?? '—'}</td>
<td>${detailsList(e.details)}</td>
<td><code title="${e.eventHash}">${e.eventHash.slice(0, 12)}</code></td></tr>`;
}

/** One grant: summary, the chain verification badge, the whole timeline, statuses, notifications and dead letters. */
export function grantPage(
  frame: { principal: Principal; csrfToken: string },
  view: GrantView,
  canDownloadEvidence: boolean,
): string {
  const s = view.summary;
  const badgeClass =
    view.verdict === 'VERIFIED' ? 'verified' : view.verdict === 'BROKEN' ? 'broken' : 'empty';
  const badgeText =
    view.verdict === 'VERIFIED'
      ? 'Chain verified'
      : view.verdict === 'BROKEN'
        ? 'Chain broken'
        : 'No events';
  const b = view.brokenAt;
  return page(
    { title: `Grant ${view.grantId}`, ...frame, current: 'grants' },
    html`<section aria-labelledby="verification">
        <h2 id="verification">Verification</h2>
        <p>
          <span class="badge ${badgeClass}" id="chain-badge" data-verdict="${view.verdict}"
            >${badgeText}</span
          >
          ${view.verdictText}
        </p>
        ${b
          ? html`<p id="first-broken">
              First broken: <strong>${b.kind}</strong>${b.position !== null
                ? html` at event <a href="#broken-event">${b.position}</a> (${b.stage} ${b.action})`
                : ''}${b.eventId ? html`, event id <code>${b.eventId}</code>` : ''}${b.at
                ? html`, audit record ${b.at}`
                : ''}.
              ${b.message}
            </p>`
          : ''}
        ${view.findings.length > 1
          ? html`<ul>
              ${view.findings.map(
                (f) => html`<li><strong>${f.kind}</strong> ${f.eventId ?? ''}: ${f.message}</li>`,
              )}
            </ul>`
          : ''}
        ${canDownloadEvidence
          ? html`<p>
              <a href="/grants/${encodeURIComponent(view.grantId)}/evidence.html"
                >Download the evidence bundle (printable HTML)</a
              >
            </p>`
          : ''}
      </section>
      <section aria-labelledby="summary">
        <h2 id="summary">Summary</h2>
        <dl class="facts">
          <dt>Funder</dt>
          <dd>${s?.funderId ?? '—'}</dd>
          <dt>Status</dt>
          <dd>${s?.state ?? '—'}</dd>
          <dt>Tracking number</dt>
          <dd>${s?.trackingNumber ?? '—'}</dd>
          <dt>Deadline</dt>
          <dd>${when(s?.deadline)}</dd>
          <dt>First seen</dt>
          <dd>${when(s?.firstAt)}</dd>
          <dt>Last activity</dt>
          <dd>${when(s?.lastAt)}</dd>
          <dt>Trails</dt>
          <dd>
            ${view.trails.map(
              (t) =>
                html`<code>${t.trailId}</code> (${t.events}
                  event(s)${t.link ? `, ${t.link.kind} of ${t.link.ofTrail}` : ''}) `,
            )}
          </dd>
        </dl>
      </section>
      <section aria-labelledby="timeline">
        <h2 id="timeline">Timeline</h2>
        <table class="timeline">
          <caption class="note">
            Every audit event, trail by trail, in chain order from genesis
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Stage</th>
              <th scope="col">Decision</th>
              <th scope="col">Error</th>
              <th scope="col">Rule pack</th>
              <th scope="col">Attempt</th>
              <th scope="col">Tracking</th>
              <th scope="col">Status</th>
              <th scope="col">Reasons and details</th>
              <th scope="col">Event hash</th>
            </tr>
          </thead>
          <tbody>
            ${view.timeline.map((e) => timelineRow(e, b?.eventId ?? null))}
          </tbody>
        </table>
        ${view.undecodable.length > 0
          ? html`<p class="error">
              Undecodable audit records:
              ${view.undecodable.map((u) => html`${u.at} (${u.reason}) `)}
            </p>`
          : ''}
      </section>
      <section aria-labelledby="statuses">
        <h2 id="statuses">Portal statuses</h2>
        ${view.statuses.length === 0
          ? html`<p class="note">No status from the funder portal yet.</p>`
          : html`<table>
              <thead>
                <tr>
                  <th scope="col">Observed</th>
                  <th scope="col">Status</th>
                  <th scope="col">Tracking</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Portal messages</th>
                </tr>
              </thead>
              <tbody>
                ${view.statuses.map(
                  (st) =>
                    html`<tr>
                      <td>${when(st.status.observed_at)}</td>
                      <td>${st.status.status}</td>
                      <td>${st.status.tracking_number ?? '—'}</td>
                      <td>${st.status.attempt}</td>
                      <td>${st.status.portal_messages.join('; ')}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`}
      </section>
      <section aria-labelledby="notifications">
        <h2 id="notifications">Notifications</h2>
        ${view.notifications.length === 0
          ? html`<p class="note">No notification sent.</p>`
          : html`<ul>
              ${view.notifications.map(
                (n) => html`<li>${when(n.occurredAt)}: ${detailsList(n.details)}</li>`,
              )}
            </ul>`}
      </section>
      <section aria-labelledby="dead-letters">
        <h2 id="dead-letters">Dead letters</h2>
        ${view.deadLetters.length === 0
          ? html`<p class="note">None.</p>`
          : html`<ul>
              ${view.deadLetters.map(
                (d) =>
                  html`<li>
                    <a href="/dead-letters/${d.entry.position}">${d.entry.position}</a>:
                    ${d.entry.stage ?? '?'} ${d.entry.category ?? '?'} ${d.entry.code ?? ''} —
                    ${d.entry.reason ?? ''}
                  </li>`,
              )}
            </ul>`}
      </section>`,
  );
}

/** The page for a grant the read model does not hold. */
export function grantNotFoundPage(
  frame: { principal: Principal; csrfToken: string },
  grantId: string,
): string {
  return page(
    { title: 'Grant not found', ...frame, current: 'grants' },
    html`<p>
      The read model holds nothing about <code>${grantId}</code>. It may not have been read yet: see
      <a href="/read-model">how far behind</a> the topics the console is.
    </p>`,
  );
}
