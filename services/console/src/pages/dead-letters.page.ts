import type { RedriveOutcome, RedriveReport } from '@grantstream/dead-letters';
import type { StoredDeadLetter } from '@grantstream/read-model';
import type { Principal } from '../auth/roles';
import { html } from '../http/html';
import { page } from '../http/layout';
import { when } from './format';

/** The fields of the dead-letter filter form, as submitted. */
export interface DeadLetterForm {
  category: string;
  code: string;
  stage: string;
  sourceTopic: string;
  from: string;
  to: string;
}

/** How the console shows a dead letter's value: decoded, by reference, or as hex with the reason. */
export type ShownValue =
  | { kind: 'avro'; schemaId: number; json: string }
  | { kind: 'reference'; uri: string | null; sha256: string | null; bytes: number | null }
  | { kind: 'hex'; hex: string; why: string; bytes: number; shownBytes: number }
  | { kind: 'none' };

/** One header as shown: text when it is printable UTF-8, else hex. */
export interface ShownHeader {
  name: string;
  text: string;
  hex: boolean;
}

const input = (id: keyof DeadLetterForm, label: string, value: string, type = 'text') =>
  html`<label for="${id}"
    >${label}<input id="${id}" name="${id}" type="${type}" value="${value}"
  /></label>`;

/** The dead-letter list with its filters, latest first. */
export function deadLettersPage(
  frame: { principal: Principal; csrfToken: string },
  form: DeadLetterForm,
  rows: readonly StoredDeadLetter[],
  limit: number,
  canRedrive = false,
): string {
  return page(
    { title: 'Dead letters', ...frame, current: 'dead-letters' },
    html`<form
        class="search"
        method="get"
        action="/dead-letters"
        role="search"
        aria-label="Dead-letter filter"
      >
        ${input('category', 'Error category', form.category)}
        ${input('code', 'Error code', form.code)} ${input('stage', 'Stage', form.stage)}
        ${input('sourceTopic', 'Source topic', form.sourceTopic)}
        ${input('from', 'Failed from (UTC)', form.from, 'datetime-local')}
        ${input('to', 'Failed before (UTC)', form.to, 'datetime-local')}
        <button type="submit">Filter</button>
      </form>
      <p class="note" role="status">
        ${rows.length} dead letter(s)${rows.length >= limit ? ` (first ${limit} shown)` : ''}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Position</th>
            <th scope="col">Failed</th>
            <th scope="col">Grant</th>
            <th scope="col">Stage</th>
            <th scope="col">Category</th>
            <th scope="col">Code</th>
            <th scope="col">Source</th>
            <th scope="col">Reason</th>
            <th scope="col">Redriven</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (d) =>
              html`<tr>
                <td><a href="/dead-letters/${d.entry.position}">${d.entry.position}</a></td>
                <td>${when(d.failedAt)}</td>
                <td>
                  <a href="/grants/${encodeURIComponent(d.entry.grantId)}">${d.entry.grantId}</a>
                </td>
                <td>${d.entry.stage ?? '—'}</td>
                <td>${d.entry.category ?? '—'}</td>
                <td>${d.entry.code ?? '—'}</td>
                <td>
                  ${d.entry.source
                    ? `${d.entry.source.topic} ${d.entry.source.partition}:${d.entry.source.offset}`
                    : '—'}
                </td>
                <td>${d.entry.reason ?? ''}</td>
                <td>${d.entry.redriveCount}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${canRedrive ? redriveSetForm(frame.csrfToken, form) : ''}`,
  );
}

/** The filter as hidden fields: a preview and its confirmation select by the filter the list shows. */
const filterFields = (form: DeadLetterForm) =>
  (Object.keys(form) as (keyof DeadLetterForm)[]).map(
    (k) => html`<input type="hidden" name="${k}" value="${form[k]}" />`,
  );

/** Only operators get it: a dry run of redriving every dead letter the filter selects. */
function redriveSetForm(csrfToken: string, form: DeadLetterForm) {
  return html`<section aria-labelledby="redrive-set">
    <h2 id="redrive-set">Redrive these dead letters</h2>
    <form method="post" action="/dead-letters/set/preview" class="search">
      <input type="hidden" name="_csrf" value="${csrfToken}" />
      ${filterFields(form)}
      <label for="set-force"
        ><span
          ><input id="set-force" name="force" type="checkbox" value="yes" /> Force (refused
          categories too)</span
        ></label
      >
      <button type="submit" id="redrive-set-preview">Preview redrive</button>
    </form>
  </section>`;
}

/** A dry run of a filtered set, or its outcome once confirmed. */
export type RedriveSetView =
  | {
      kind: 'preview';
      report: RedriveReport;
      /** The preview's fingerprint: the confirmation carries it back. */
      fingerprint: string;
    }
  | { kind: 'done'; report: RedriveReport; operator: string }
  /** Why nothing was previewed or sent (too large a set, the set changed since its preview). */
  | { kind: 'refused'; reason: string };

const filterText = (form: DeadLetterForm) => {
  const named: [keyof DeadLetterForm, string][] = [
    ['category', 'category'],
    ['code', 'code'],
    ['stage', 'stage'],
    ['sourceTopic', 'source topic'],
    ['from', 'failed from'],
    ['to', 'failed before'],
  ];
  const parts = named.filter(([k]) => form[k] !== '').map(([k, label]) => `${label} ${form[k]}`);
  return parts.length > 0 ? parts.join(', ') : 'none (every dead letter)';
};

/**
 * The redrive of a filtered set: the dry run (how many would go, which are
 * refused and why) with the confirmation form carrying its fingerprint, or
 * what the confirmed redrive did.
 */
export function redriveSetPage(
  frame: { principal: Principal; csrfToken: string },
  form: DeadLetterForm,
  force: boolean,
  view: RedriveSetView,
): string {
  const back = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== '')).toString();
  const body =
    view.kind === 'refused'
      ? html`<p id="redrive-set-outcome" role="status" class="error">${view.reason}</p>`
      : html`<p id="redrive-set-outcome" role="status">
            <strong
              >${view.kind === 'preview'
                ? `Dry run: ${view.report.redriven.length} dead letter(s) would be redriven, ${view.report.skipped.length} refused.`
                : `Redriven ${view.report.redriven.length} dead letter(s) by ${view.operator}, ${view.report.skipped.length} refused.`}</strong
            >
          </p>
          ${view.report.redriven.length > 0
            ? html`<h2>${view.kind === 'preview' ? 'Would be redriven' : 'Redriven'}</h2>
                <table id="redrive-set-send">
                  <thead>
                    <tr>
                      <th scope="col">Position</th>
                      <th scope="col">Grant</th>
                      <th scope="col">Back to</th>
                      <th scope="col">Redrive</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${view.report.redriven.map(
                      (r) =>
                        html`<tr>
                          <td>${r.entry.position}</td>
                          <td>${r.entry.grantId}</td>
                          <td>${r.toTopic}</td>
                          <td>${r.redriveCount}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
            : ''}
          ${view.report.skipped.length > 0
            ? html`<h2>Refused</h2>
                <table id="redrive-set-refused">
                  <thead>
                    <tr>
                      <th scope="col">Position</th>
                      <th scope="col">Grant</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${view.report.skipped.map(
                      (s) =>
                        html`<tr>
                          <td>${s.entry.position}</td>
                          <td>${s.entry.grantId}</td>
                          <td>${s.reason}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
            : ''}
          ${view.kind === 'preview' && view.report.redriven.length > 0
            ? html`<form method="post" action="/dead-letters/set/confirm" class="search">
                <input type="hidden" name="_csrf" value="${frame.csrfToken}" />
                <input type="hidden" name="fingerprint" value="${view.fingerprint}" />
                ${filterFields(form)}
                ${force ? html`<input type="hidden" name="force" value="yes" />` : ''}
                <label for="set-confirm"
                  ><span
                    ><input id="set-confirm" name="confirm" type="checkbox" value="yes" required />
                    I checked the cause is fixed</span
                  ></label
                >
                <button type="submit" id="redrive-set-confirm">
                  Redrive ${view.report.redriven.length} dead letter(s)
                </button>
              </form>`
            : ''}`;
  return page(
    { title: 'Redrive dead letters', ...frame, current: 'dead-letters' },
    html`<p class="note">
        Filter: ${filterText(form)}${force ? '; forced (refused categories too)' : ''}.
        <a href="/dead-letters${back === '' ? '' : `?${back}`}">Back to the list</a>
      </p>
      ${body}`,
  );
}

/** The redrive section of a dead letter's page: only operators get it. */
export interface RedriveSection {
  /** The dry run: what a redrive would do now, or why it is refused. */
  preview: RedriveOutcome;
  /** What the last redrive request did, when the page answers one. */
  outcome: string | null;
}

function redriveSection(position: string, csrfToken: string, r: RedriveSection) {
  const p = r.preview;
  return html`<section aria-labelledby="redrive">
    <h2 id="redrive">Redrive</h2>
    ${r.outcome
      ? html`<p id="redrive-outcome" role="status"><strong>${r.outcome}</strong></p>`
      : ''}
    <p id="redrive-preview">
      ${p.kind === 'send'
        ? `Dry run: would send the original message back to ${p.toTopic} (redrive ${p.entry.redriveCount + 1}), with a REDRIVEN audit event naming you.`
        : `Not redrivable now: ${p.reason}.`}
    </p>
    <form method="post" action="/dead-letters/${position}/redrive" class="search">
      <input type="hidden" name="_csrf" value="${csrfToken}" />
      <label for="confirm"
        ><span
          ><input id="confirm" name="confirm" type="checkbox" value="yes" required /> I checked the
          cause is fixed</span
        ></label
      >
      <label for="force"
        ><span
          ><input id="force" name="force" type="checkbox" value="yes" /> Force (a refused
          category)</span
        ></label
      >
      <button type="submit">Redrive</button>
    </form>
  </section>`;
}

/** One dead letter: what failed and why, every header, its value decoded or as hex, and for operators its redrive. */
export function deadLetterPage(
  frame: { principal: Principal; csrfToken: string },
  d: StoredDeadLetter,
  headers: readonly ShownHeader[],
  value: ShownValue,
  key: string | null,
  redrive: RedriveSection | null = null,
): string {
  const e = d.entry;
  return page(
    { title: `Dead letter ${e.position}`, ...frame, current: 'dead-letters' },
    html`<dl class="facts">
        <dt>Grant</dt>
        <dd><a href="/grants/${encodeURIComponent(e.grantId)}">${e.grantId}</a></dd>
        <dt>Stage</dt>
        <dd>${e.stage ?? '—'} (${e.service ?? 'unknown service'})</dd>
        <dt>Category</dt>
        <dd>${e.category ?? '—'}</dd>
        <dt>Code</dt>
        <dd>${e.code ?? '—'}</dd>
        <dt>Why</dt>
        <dd>${e.reason ?? '—'}</dd>
        <dt>Attempts</dt>
        <dd>${e.attempts ?? '—'}</dd>
        <dt>Failed</dt>
        <dd>${e.failedAt ?? '—'}</dd>
        <dt>Source</dt>
        <dd>
          ${e.source
            ? `${e.source.topic} partition ${e.source.partition} offset ${e.source.offset}`
            : '—'}
        </dd>
        <dt>Redriven</dt>
        <dd>${e.redriveCount} time(s)</dd>
        <dt>Key</dt>
        <dd><code>${key ?? '(none)'}</code></dd>
      </dl>
      <h2>Headers</h2>
      <table class="headers">
        <thead>
          <tr>
            <th scope="col" class="name">Name</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          ${headers.map(
            (h) =>
              html`<tr>
                <td><code>${h.name}</code></td>
                <td>${h.hex ? html`<code>hex ${h.text}</code>` : h.text}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Value</h2>
      ${value.kind === 'avro'
        ? html`<p class="note">Avro, writer schema id ${value.schemaId}:</p>
            <pre>${value.json}</pre>`
        : value.kind === 'reference'
          ? html`<p>
              Too large for the dead-letter topic: ${value.bytes ?? '?'} byte(s) kept in the
              dead-letter store at <code>${value.uri ?? '(not stored)'}</code>, SHA-256
              <code>${value.sha256 ?? '?'}</code>.
            </p>`
          : value.kind === 'hex'
            ? html`<p>Not decoded: ${value.why}</p>
                <p class="note">
                  ${value.bytes}
                  byte(s)${value.shownBytes < value.bytes
                    ? `, first ${value.shownBytes} shown`
                    : ''},
                  as hex:
                </p>
                <pre>${value.hex}</pre>`
            : html`<p class="note">No value (a tombstone).</p>`}
      ${redrive ? redriveSection(e.position, frame.csrfToken, redrive) : ''}`,
  );
}

/** The page for a position the dead-letter list does not hold. */
export function deadLetterNotFoundPage(
  frame: { principal: Principal; csrfToken: string },
  position: string,
): string {
  return page(
    { title: 'Dead letter not found', ...frame, current: 'dead-letters' },
    html`<p>No dead letter at <code>${position}</code> in the read model.</p>`,
  );
}
