import type { Principal } from '../auth/roles';
import type { ChartHistory } from '../charts/chart-history';
import { lineChart } from '../charts/svg-chart';
import type { FunderFigures } from '../domain/funder-figures';
import type { FundersView, FunderRow } from '../funders/funders-monitor';
import { html, type SafeHtml } from '../http/html';
import { page } from '../http/layout';
import { when } from './format';

/** The funders page's live region: the same markup, fetched again every refresh. */
export const FUNDERS_LIVE = '/funders/live';
/** The pipeline page's charts, as a live region of their own. */
export const PIPELINE_CHARTS_LIVE = '/pipeline/charts';
/** The one script of live regions: it fetches each region's source again and swaps it in. */
export const LIVE_REGION_SCRIPT = '/assets/live-region.js';

const dash = '—';
const perSecond = (n: number | null): string => (n === null ? dash : `${n.toFixed(1)}/s`);
const count = (n: number | null): string => (n === null ? dash : String(n));
const ms = (n: number | null): string => (n === null ? dash : `${Math.round(n)} ms`);
/** An id made only of characters an HTML id and a URL need not escape. */
const idOf = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, '_');

const CIRCUIT_TEXT = { closed: 'closed', half_open: 'half open', open: 'open' } as const;

/** The cells of a funder's limiter and portal columns, as text. */
export function funderCells(f: FunderFigures | null, now: number): Record<string, string> {
  if (f === null) {
    return {
      limit: dash,
      calls: dash,
      queued: dash,
      running: dash,
      circuit: 'not served',
      probe: dash,
      latency: dash,
      answers: dash,
      rateLimited: dash,
    };
  }
  const utilization =
    f.utilization === null ? '' : ` (${Math.round(f.utilization * 100)}% of limit)`;
  return {
    limit:
      f.ratePerSecond === null
        ? dash
        : `${f.ratePerSecond}/s${f.maxConcurrent === null ? '' : `, ${f.maxConcurrent} at once`}`,
    calls: `${perSecond(f.callsPerSecond)}${utilization}`,
    queued: count(f.queued),
    running: count(f.running),
    circuit: f.circuit === null ? dash : CIRCUIT_TEXT[f.circuit],
    probe:
      f.nextProbeAt === null
        ? dash
        : `${when(Math.round(f.nextProbeAt / 1000) * 1000)}${f.nextProbeAt > now ? ` (in ${Math.ceil((f.nextProbeAt - now) / 1000)} s)` : ' (due)'}`,
    latency:
      f.latencyMeanMs === null
        ? dash
        : `mean ${ms(f.latencyMeanMs)}, p95 ${f.latencyP95Ms === null ? 'above the last bucket' : `≤ ${ms(f.latencyP95Ms)}`}`,
    answers:
      f.statusCodes.length === 0
        ? dash
        : f.statusCodes.map((c) => `${c.status}: ${c.calls}`).join(', '),
    rateLimited: String(f.rateLimited),
  };
}

const FIGURE_COLUMNS: [string, string][] = [
  ['limit', 'Limit'],
  ['calls', 'Calls'],
  ['queued', 'Queued'],
  ['running', 'Running'],
  ['circuit', 'Circuit'],
  ['probe', 'Next probe'],
  ['latency', 'Portal latency'],
  ['answers', 'Answers by status'],
  ['rateLimited', '429s'],
];

function funderCharts(history: ChartHistory, funderId: string, now: number): SafeHtml {
  const window = history.window(now);
  const id = idOf(funderId);
  return html`<section class="charts" aria-labelledby="charts-${id}">
    <h3 id="charts-${id}">${funderId}</h3>
    ${lineChart({
      id: `funder-calls-${id}`,
      title: `${funderId}: portal calls per second against the limit`,
      description: `Portal calls per second of ${funderId} (every operation, every stage) and the limiter's limit, over the last ${Math.round((window.to - window.from) / 60_000)} minutes.`,
      unit: 'calls/s',
      series: history.funderCalls(funderId),
      ...window,
    })}
    ${lineChart({
      id: `funder-states-${id}`,
      title: `${funderId}: grants by status`,
      description: `How many of ${funderId}'s grants were in each status (their portal status, else their last decision), over the last ${Math.round((window.to - window.from) / 60_000)} minutes.`,
      unit: 'grants',
      series: history.funderStates(funderId),
      ...window,
    })}
  </section>`;
}

function riskText(r: FundersView['atRisk'][number]['risk']): string {
  if (r.passed) return 'passed';
  return r.businessDaysLeft === 1 ? '1 business day' : `${r.businessDaysLeft} business days`;
}

/**
 * The live part of the funders page: limiter and circuit per funder, the
 * retry tiers' backlog, grants by status, grants at risk of missing their
 * deadline, and the charts of the funders `charted` names.
 */
export function fundersLive(
  view: FundersView,
  history: ChartHistory,
  charted: readonly string[],
  now: number,
  refreshMs: number,
): SafeHtml {
  const rows: FunderRow[] = view.funders;
  return html`<div
    id="funders-live"
    data-live-src="${FUNDERS_LIVE}${charted.length === 1
      ? `?funder=${encodeURIComponent(charted[0] ?? '')}`
      : ''}"
    data-live-every="${refreshMs}"
  >
    <p class="note" role="status">
      ${view.scrapedAt === null
        ? 'Asking the stages…'
        : `Stages asked ${when(view.scrapedAt)}; read model as of ${when(now)}.`}
    </p>
    <h2>Limits and circuits</h2>
    <table class="funders">
      <thead>
        <tr>
          <th scope="col">Funder</th>
          ${FIGURE_COLUMNS.map(([, label]) => html`<th scope="col">${label}</th>`)}
          <th scope="col">Grants at risk</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => {
          const cells = funderCells(r.figures, now);
          return html`<tr data-funder="${r.funderId}" data-circuit="${r.figures?.circuit ?? ''}">
            <th scope="row">
              <a href="/funders?funder=${encodeURIComponent(r.funderId)}">${r.funderId}</a>
            </th>
            ${FIGURE_COLUMNS.map(
              ([key]) => html`<td data-field="${key}">${cells[key] ?? dash}</td>`,
            )}
            <td data-field="atRisk">${r.atRisk}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    <h2>Retry tiers</h2>
    ${view.tiers.length === 0
      ? html`<p class="note">No retry tier reported its lag.</p>`
      : html`<table class="tiers">
          <thead>
            <tr>
              <th scope="col">Tier topic</th>
              <th scope="col">Backlog (consumer lag)</th>
            </tr>
          </thead>
          <tbody>
            ${view.tiers.map(
              (t) =>
                html`<tr data-tier="${t.topic}">
                  <td>${t.topic}</td>
                  <td>${t.lag}</td>
                </tr>`,
            )}
          </tbody>
        </table>`}
    <h2>Grants at risk of missing the deadline</h2>
    <p class="note">
      Not received by the portal, and no more business days left than the funder needs (counted on
      the funder's own dates, weekends and its pack's holidays skipped), or already passed; soonest
      first.
    </p>
    ${view.atRisk.length === 0
      ? html`<p class="note">No grant at risk.</p>`
      : html`<table class="at-risk">
          <thead>
            <tr>
              <th scope="col">Grant</th>
              <th scope="col">Funder</th>
              <th scope="col">Status</th>
              <th scope="col">Deadline (funder's time)</th>
              <th scope="col">Time zone</th>
              <th scope="col">Business days left</th>
              <th scope="col">Deadline (UTC)</th>
            </tr>
          </thead>
          <tbody>
            ${view.atRisk.map(
              (g) =>
                html`<tr
                  data-grant="${g.grant.grantId}"
                  data-passed="${g.risk.passed ? 'yes' : 'no'}"
                >
                  <td>
                    <a href="/grants/${encodeURIComponent(g.grant.grantId)}">${g.grant.grantId}</a>
                  </td>
                  <td>${g.funderId}</td>
                  <td>${g.grant.state ?? dash}</td>
                  <td data-field="deadline">${g.risk.localDeadline}</td>
                  <td>${g.timeZone}</td>
                  <td data-field="left">${riskText(g.risk)}</td>
                  <td>${when(g.grant.deadline)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`}
    <h2>Grants by status</h2>
    <table class="states">
      <thead>
        <tr>
          <th scope="col">Funder</th>
          ${view.states.map((s) => html`<th scope="col">${s}</th>`)}
          <th scope="col">All</th>
        </tr>
      </thead>
      <tbody>
        ${rows
          .filter((r) => r.grants > 0)
          .map(
            (r) =>
              html`<tr data-funder="${r.funderId}">
                <th scope="row">${r.funderId}</th>
                ${view.states.map(
                  (s) => html`<td>${r.states.find((x) => x.state === s)?.grants ?? 0}</td>`,
                )}
                <td>${r.grants}</td>
              </tr>`,
          )}
      </tbody>
    </table>
    <h2>Charts</h2>
    ${charted.length === 0
      ? html`<p class="note">
          No stage serves funder figures yet; pick a funder to chart its grants.
        </p>`
      : charted.map((f) => funderCharts(history, f, now))}
  </div>`;
}

/** The funders page: a funder picker and the live region (updated by the live-region script, or a reload without it). */
export function fundersPage(
  frame: { principal: Principal; csrfToken: string },
  view: FundersView,
  history: ChartHistory,
  charted: readonly string[],
  selected: string | null,
  now: number,
  refreshMs: number,
): string {
  return page(
    {
      title: 'Funders',
      ...frame,
      current: 'funders',
      head: html`<noscript
          ><meta http-equiv="refresh" content="${Math.max(1, Math.round(refreshMs / 1000))}"
        /></noscript>
        <script src="${LIVE_REGION_SCRIPT}" defer></script>`,
    },
    html`<form class="search" method="get" action="/funders">
        <label
          >Chart funder
          <select name="funder">
            <option value="">Every funder with a portal</option>
            ${view.funders.map(
              (f) =>
                html`<option value="${f.funderId}" ${f.funderId === selected ? html`selected` : ''}>
                  ${f.funderId}
                </option>`,
            )}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      ${fundersLive(view, history, charted, now, refreshMs)}`,
  );
}

/** The pipeline page's charts: per stage, consumer lag and throughput over the charts' span. */
export function pipelineCharts(
  history: ChartHistory,
  stages: readonly string[],
  now: number,
  refreshMs: number,
): SafeHtml {
  const window = history.window(now);
  const minutes = Math.round((window.to - window.from) / 60_000);
  return html`<section
    id="pipeline-charts"
    aria-labelledby="pipeline-charts-title"
    data-live-src="${PIPELINE_CHARTS_LIVE}"
    data-live-every="${refreshMs}"
  >
    <h2 id="pipeline-charts-title">Lag and throughput, last ${minutes} minutes</h2>
    ${stages.map(
      (stage) =>
        html`<section class="charts" aria-label="${stage}">
          <h3>${stage}</h3>
          ${lineChart({
            id: `stage-lag-${idOf(stage)}`,
            title: `${stage}: consumer lag`,
            description: `Messages of ${stage}'s input topics not yet processed, summed over partitions and replicas, over the last ${minutes} minutes.`,
            unit: 'messages',
            series: history.stageLag(stage),
            ...window,
          })}
          ${lineChart({
            id: `stage-throughput-${idOf(stage)}`,
            title: `${stage}: throughput`,
            description: `Messages in and records out per second of ${stage}, over the last ${minutes} minutes.`,
            unit: 'per second',
            series: history.stageThroughput(stage),
            ...window,
          })}
        </section>`,
    )}
  </section>`;
}

/**
 * The live-region script: every element with data-live-src is fetched again
 * every data-live-every ms and replaced by the element of the same id in
 * the answer (markup the console escaped; no script in it runs). Open data
 * tables stay open. Served same-origin, as the CSP requires.
 */
export const LIVE_REGION_JS = `"use strict";
(function () {
  if (typeof fetch === "undefined" || typeof DOMParser === "undefined") return;
  var regions = document.querySelectorAll("[data-live-src][id]");
  Array.prototype.forEach.call(regions, function (first) {
    var id = first.id;
    function every() {
      var el = document.getElementById(id);
      return Number(el && el.getAttribute("data-live-every")) || 5000;
    }
    function tick() {
      var current = document.getElementById(id);
      if (!current) return;
      fetch(current.getAttribute("data-live-src"), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.text();
        })
        .then(function (text) {
          var doc = new DOMParser().parseFromString(text, "text/html");
          var fresh = doc.getElementById(id);
          var now = document.getElementById(id);
          if (!fresh || !now) return;
          var open = now.querySelectorAll("details[open][id]");
          Array.prototype.forEach.call(open, function (d) {
            var again = fresh.querySelector("#" + CSS.escape(d.id));
            if (again) again.setAttribute("open", "");
          });
          now.replaceWith(document.adoptNode(fresh));
        })
        .catch(function () {})
        .then(function () {
          setTimeout(tick, every());
        });
    }
    setTimeout(tick, every());
  });
})();
`;
