import type { ProjectionLag, StoreCounts } from '@grantstream/read-model';
import type { Principal } from '../auth/roles';
import { html } from '../http/html';
import { page } from '../http/layout';
import { when } from './format';

/** How far behind the topics the read model is, per topic and partition, and what it holds. */
export function readModelPage(
  frame: { principal: Principal; csrfToken: string },
  lag: ProjectionLag,
  counts: StoreCounts,
): string {
  return page(
    { title: 'Read model', ...frame, current: 'read-model' },
    html`<p id="lag-total" data-lag="${lag.total}">
        ${lag.total === 0 ? 'Up to date' : `${lag.total} record(s) behind`} as of
        ${when(lag.measuredAt)}; last caught up ${when(lag.caughtUpAt)}.
      </p>
      ${lag.lastError ? html`<p class="error">Last pass failed: ${lag.lastError}</p>` : ''}
      <dl class="facts">
        <dt>Grants</dt>
        <dd>${counts.grants}</dd>
        <dt>Audit records</dt>
        <dd>${counts.auditRecords}</dd>
        <dt>Status records</dt>
        <dd>${counts.statusRecords}</dd>
        <dt>Dead letters</dt>
        <dd>${counts.deadLetters}</dd>
      </dl>
      ${lag.topics.map(
        (t) =>
          html`<h2>${t.topic}: ${t.lag} behind</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Partition</th>
                  <th scope="col">End</th>
                  <th scope="col">Read up to</th>
                  <th scope="col">Behind</th>
                </tr>
              </thead>
              <tbody>
                ${t.partitions.map(
                  (p) =>
                    html`<tr>
                      <td>${p.partition}</td>
                      <td>${p.end}</td>
                      <td>${p.position}</td>
                      <td>${p.lag}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`,
      )}`,
  );
}
