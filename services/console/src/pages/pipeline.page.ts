import type { Principal } from '../auth/roles';
import { html, type SafeHtml } from '../http/html';
import { page } from '../http/layout';
import type { PipelineSnapshot, StageState } from '../pipeline/pipeline-monitor';
import { when } from './format';
import { LIVE_REGION_SCRIPT } from './funders.page';

/** Where the pipeline page's live feed is (server-sent events). */
export const PIPELINE_FEED = '/api/pipeline/events';
/** The pipeline page's one script: it applies the feed's rows to the table. */
export const PIPELINE_SCRIPT = '/assets/pipeline.js';

/** The cells of one stage's row, as text: the page and its live feed show the same. */
export interface StageRow {
  stage: string;
  ready: boolean;
  cells: Record<
    'ready' | 'lag' | 'in' | 'out' | 'dead' | 'committed' | 'aborted' | 'paused' | 'memory',
    string
  >;
}

const count = (n: number | null): string => (n === null ? '—' : String(n));
const perSecond = (n: number | null): string => (n === null ? '—' : `${n.toFixed(1)}/s`);
const mib = (bytes: number | null): string =>
  bytes === null ? '—' : `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;

/** One stage's row: ready when every replica is (a stage with none ready is "not ready"). */
export function stageRow(s: StageState): StageRow {
  const all = s.replicas.length;
  const ready = all > 0 && s.readyReplicas === all;
  const lag = s.lag.reduce((a, t) => a + t.lag, 0);
  return {
    stage: s.stage,
    ready,
    cells: {
      ready: `${ready ? 'ready' : 'not ready'} (${s.readyReplicas}/${all} replicas)`,
      lag: s.lag.length === 0 ? '—' : String(lag),
      in: perSecond(s.inPerSecond),
      out: perSecond(s.outPerSecond),
      dead: perSecond(s.deadLettersPerSecond),
      committed: count(s.transactionsCommitted),
      aborted: count(s.transactionsAborted),
      paused: count(s.pausedPartitions),
      memory: mib(s.rssBytes),
    },
  };
}

/** What the live feed sends at every refresh. */
export function pipelineEvent(snapshot: PipelineSnapshot): {
  updated: string;
  rows: StageRow[];
} {
  return { updated: `Updated ${when(snapshot.at)}`, rows: snapshot.stages.map(stageRow) };
}

const COLUMNS: [keyof StageRow['cells'], string][] = [
  ['ready', 'Replicas'],
  ['lag', 'Consumer lag'],
  ['in', 'In'],
  ['out', 'Out'],
  ['dead', 'Dead letters'],
  ['committed', 'Transactions committed'],
  ['aborted', 'Transactions aborted'],
  ['paused', 'Paused partitions'],
  ['memory', 'Memory (RSS)'],
];

/**
 * Each stage's replicas, lag, rates, transactions, paused partitions and
 * memory. The table updates itself from the live feed (a same-origin
 * script); without script the page reloads every refresh instead.
 */
export function pipelinePage(
  frame: { principal: Principal; csrfToken: string },
  snapshot: PipelineSnapshot | null,
  refreshMs: number,
  /** The lag and throughput charts (a live region of their own), when the console keeps samples. */
  charts?: SafeHtml,
): string {
  const rows = snapshot?.stages ?? [];
  return page(
    {
      title: 'Pipeline',
      ...frame,
      current: 'pipeline',
      head: html`<noscript
          ><meta http-equiv="refresh" content="${Math.max(1, Math.round(refreshMs / 1000))}"
        /></noscript>
        <script src="${PIPELINE_SCRIPT}" defer></script>`,
    },
    html`<p id="pipeline-updated" role="status" data-pipeline-feed="${PIPELINE_FEED}">
        ${snapshot ? `Updated ${when(snapshot.at)}` : 'Asking the stages…'}
      </p>
      <table class="pipeline">
        <thead>
          <tr>
            <th scope="col">Stage</th>
            ${COLUMNS.map(([, label]) => html`<th scope="col">${label}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map((s) => {
            const row = stageRow(s);
            return html`<tr data-stage="${row.stage}" data-ready="${row.ready ? 'yes' : 'no'}">
              <th scope="row">${row.stage}</th>
              ${COLUMNS.map(([key]) => html`<td data-field="${key}">${row.cells[key]}</td>`)}
            </tr>`;
          })}
        </tbody>
      </table>
      <h2>Lag per partition</h2>
      ${rows.map(
        (s) =>
          html`<details>
            <summary>${s.stage}</summary>
            <ul class="details">
              ${s.replicas.map(
                (r) => html`<li>${r.url}: ${r.ready ? 'ready' : `not ready, ${r.why ?? ''}`}</li>`,
              )}
            </ul>
            ${s.lag.length === 0
              ? html`<p class="note">No lag reported.</p>`
              : html`<table>
                  <thead>
                    <tr>
                      <th scope="col">Topic</th>
                      <th scope="col">Partition</th>
                      <th scope="col">Lag</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${s.lag.flatMap((t) =>
                      t.partitions.map(
                        (p) =>
                          html`<tr>
                            <td>${t.topic}</td>
                            <td>${p.partition}</td>
                            <td>${p.lag}</td>
                          </tr>`,
                      ),
                    )}
                  </tbody>
                </table>`}
          </details>`,
      )}
      ${charts
        ? html`${charts}
            <script src="${LIVE_REGION_SCRIPT}" defer></script>`
        : ''}`,
  );
}

/**
 * The page's script: listens to the live feed and writes each row's cells
 * as text (never markup). Served same-origin, the only script the CSP allows.
 */
export const PIPELINE_JS = `"use strict";
(function () {
  var status = document.getElementById("pipeline-updated");
  if (!status || typeof EventSource === "undefined") return;
  var feed = new EventSource(status.getAttribute("data-pipeline-feed"));
  feed.addEventListener("pipeline", function (e) {
    var data = JSON.parse(e.data);
    status.textContent = data.updated;
    data.rows.forEach(function (r) {
      var rows = document.querySelectorAll("tr[data-stage]");
      for (var i = 0; i < rows.length; i += 1) {
        if (rows[i].getAttribute("data-stage") !== r.stage) continue;
        rows[i].setAttribute("data-ready", r.ready ? "yes" : "no");
        Object.keys(r.cells).forEach(function (k) {
          var cell = rows[i].querySelector('[data-field="' + k + '"]');
          if (cell) cell.textContent = r.cells[k];
        });
      }
    });
  });
  feed.onerror = function () {
    status.textContent = "Live updates interrupted; reconnecting…";
  };
})();
`;
