import type { AuditEventV1 } from '@grantstream/contracts';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  COMPLIANCE_TAGS,
  ChainVerifier,
  buildAuditEvent,
  buildEvidenceBundle,
  escapeHtml,
  payloadHashOf,
  type AuditDecision,
  type VerificationReport,
} from '../index';

type Step = Pick<AuditDecision, 'stage' | 'action'> & Partial<AuditDecision>;

const STEPS: Step[] = [
  { stage: 'ingest', action: 'INGESTED' },
  { stage: 'routing', action: 'FORWARD', ruleSetVersion: 'rules-7' },
  {
    stage: 'submission',
    action: 'RETRY',
    errorCategory: 'API_RATE_LIMIT',
    severity: 'MEDIUM',
    details: { attempt: '1' },
  },
  {
    stage: 'submission',
    action: 'SUBMITTED',
    details: { attempt: '2', tracking_number: 'TRK-42' },
  },
  {
    stage: 'status',
    action: 'STATUS_CHANGED',
    details: { status: 'AWARDED', note: '<script>alert("x")</script>' },
  },
];

function trail(
  grantId: string,
  trailId = `trail-${grantId}`,
  steps: Step[] = STEPS,
  from = 0,
): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return steps.map((step, i) => {
    const { event } = buildAuditEvent(
      {
        grantId,
        funderId: 'nsf',
        auditTrailId: trailId,
        payloadHash: payloadHashOf(Buffer.from(`p${i}`)),
        service: { name: step.stage, version: '1.0.0' },
        occurredAt: Date.UTC(2025, 0, 1) + from + i * 60_000,
        source: { topic: `in.${step.stage}`, partition: 0, offset: from + i },
        ...step,
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

function verify(events: AuditEventV1[]): VerificationReport {
  const verifier = new ChainVerifier();
  events.forEach((event, i) =>
    verifier.add({
      key: `${event.grant_id}:${event.event_id}`,
      event,
      partition: 0,
      offset: String(i),
    }),
  );
  return verifier.finish();
}

const GENERATED_AT = Date.UTC(2025, 5, 30, 9, 0, 0);

describe('buildEvidenceBundle', () => {
  const events = trail('G-1');
  const all = [...events, ...trail('G-2')].reverse();
  const { json, html } = buildEvidenceBundle('G-1', all, verify(all), GENERATED_AT);

  it('lays out the grant’s timeline in chain order with its facts', () => {
    expect(json.timeline.map((t) => [t.position, t.stage, t.action])).toEqual([
      [1, 'ingest', 'INGESTED'],
      [2, 'routing', 'FORWARD'],
      [3, 'submission', 'RETRY'],
      [4, 'submission', 'SUBMITTED'],
      [5, 'status', 'STATUS_CHANGED'],
    ]);
    expect(json.timeline[1]?.ruleSetVersion).toBe('rules-7');
    expect(json.timeline.map((t) => t.attempt)).toEqual([null, null, '1', '2', null]);
    expect(json.timeline[3]?.trackingNumber).toBe('TRK-42');
    expect(json.outcome).toMatchObject({ action: 'STATUS_CHANGED', status: 'AWARDED' });
    expect(json.payloadHashes).toEqual(events.map((e) => e.payload_hash));
    expect(json).toMatchObject({
      grantId: 'G-1',
      funderId: 'nsf',
      auditTrailId: 'trail-G-1',
      generatedAt: GENERATED_AT,
      generatedAtIso: '2025-06-30T09:00:00.000Z',
      complianceTags: [...COMPLIANCE_TAGS],
      verification: { result: 'CHAIN_INTACT', findings: [] },
    });
  });

  it('renders a self-contained page without scripts, escaping every value', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\bsrc=/i);
    // Links only within the page: nothing is fetched and nothing leaves it.
    const hrefs = [...html.matchAll(/\bhref="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.filter((h) => !h.startsWith('#'))).toEqual([]);
    expect(html).toContain('<style>');
    expect(html).toContain('chain intact');
    expect(html).toContain('TRK-42');
    expect(html).toContain('2 CFR 200.334');
  });

  it('shows this grant’s findings, not other grants’', () => {
    const tampered = [...events.filter((_, i) => i !== 2), ...trail('G-2')];
    const brokenOther = trail('G-3').slice(1);
    const report = verify([...tampered, ...brokenOther]);
    const bundle = buildEvidenceBundle('G-1', tampered, report, GENERATED_AT);
    expect(bundle.json.verification.result).toBe('FINDINGS');
    expect(bundle.json.verification.findings.map((f) => [f.grantId, f.kind])).toEqual([
      ['G-1', 'GAP'],
    ]);
    expect(bundle.html).toContain('GAP');
    expect(bundle.html).not.toContain('chain intact');
    expect(bundle.html).toContain('<strong>Not intact.</strong> 1 finding:');
    expect(bundle.html).toContain('an event is missing before another');
  });

  it('lists every trail of the grant with its link, trail by trail, and the outcome of the filing', () => {
    const linkedSteps: Step[] = [
      ...STEPS.slice(0, 3),
      {
        ...(STEPS[3] as Step),
        details: { tracking_number: 'TRK-43', resubmission_of_trail: 'trail-G-1' },
      },
    ];
    const second = trail('G-1', 't2', linkedSteps, 86_400_000);
    const copySteps: Step[] = [
      STEPS[0] as Step,
      { stage: 'submission', action: 'REJECT', details: { duplicate_of_trail: 't2' } },
    ];
    const copy = trail('G-1', 't3', copySteps, 2 * 86_400_000);
    const all3 = [...copy, ...second, ...events].reverse();
    const bundle = buildEvidenceBundle('G-1', all3, verify(all3), GENERATED_AT).json;
    expect(bundle.trails.map((t) => [t.trailId, t.events, t.link?.kind ?? null])).toEqual([
      ['trail-G-1', 5, null],
      ['t2', 4, 'RESUBMISSION'],
      ['t3', 2, 'DUPLICATE'],
    ]);
    expect(bundle.timeline.map((t) => t.trailId)).toEqual([
      ...Array<string>(5).fill('trail-G-1'),
      ...Array<string>(4).fill('t2'),
      ...Array<string>(2).fill('t3'),
    ]);
    expect(bundle.outcome).toMatchObject({ trailId: 't2', trackingNumber: 'TRK-43' });
  });

  it('says so when the grant has no events', () => {
    const bundle = buildEvidenceBundle('G-404', all, verify(all), GENERATED_AT);
    expect(bundle.json.verification.result).toBe('NO_EVENTS');
    expect(bundle.json.outcome).toBeNull();
  });

  it('escapes grant ids too', () => {
    const bundle = buildEvidenceBundle('<b>&', [], verify([]), GENERATED_AT);
    expect(bundle.html).toContain('&lt;b&gt;&amp;');
    expect(bundle.html).not.toContain('<b>&');
  });
});

/** The text of the page's element with this id, from its opening tag to the next section. */
function section(html: string, id: string): string {
  const start = html.indexOf(` id="${id}"`);
  expect(start, `section #${id}`).toBeGreaterThan(0);
  const end = html.indexOf('<section ', start + 1);
  return html.slice(start, end < 0 ? undefined : end);
}

describe('evidence page', () => {
  const events = trail('G-1');
  const { json, html } = buildEvidenceBundle('G-1', events, verify(events), GENERATED_AT);

  it('opens with a summary, then the timeline, then the details', () => {
    const order = ['summary', 'timeline', 'verification', 'transparency', 'trails', 'details'].map(
      (id) => html.indexOf(` id="${id}"`),
    );
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const summary = section(html, 'summary');
    expect(summary).toContain('<strong>Intact.</strong> Each of the 5 recorded events in 1 trail');
    expect(summary).toMatch(/<dt>Grant<\/dt><dd>G-1<\/dd>/);
    expect(summary).toMatch(/<dt>Funder<\/dt><dd>nsf<\/dd>/);
    expect(summary).toContain('<code>trail-G-1</code>');
    expect(summary).toMatch(/<dt>Outcome<\/dt><dd>status STATUS_<wbr>CHANGED, status AWARDED/);
  });

  it('has one timeline row per event with its time, stage, action and outcome', () => {
    const rows = section(html, 'timeline').split('<tr id="t-').slice(1);
    expect(rows).toHaveLength(json.timeline.length);
    expect(rows[2]).toContain(
      '<time datetime="2025-01-01T00:02:00.000Z">2025-01-01 00:02:00</time>',
    );
    expect(rows[2]).toContain('>submission</td>');
    expect(rows[2]).toContain('API_<wbr>RATE_<wbr>LIMIT (MEDIUM)<br>attempt 1');
    expect(rows[3]).toContain('tracking TRK-42<br>attempt 2');
  });

  it('shows hashes short in the timeline and keeps every full value in the page', () => {
    const timeline = section(html, 'timeline');
    const details = section(html, 'details');
    for (const event of events) {
      for (const hash of [event.event_hash, event.payload_hash]) {
        expect(timeline).toContain(`<code title="${hash}">${hash.slice(0, 12)}</code>`);
        expect(timeline.replace(/title="[0-9a-f]{64}"/g, '')).not.toContain(hash);
        expect(details).toContain(`<code>${hash}</code>`);
      }
      expect(details).toContain(`<code>${event.event_id}</code>`);
      expect(details).toContain(`<code>${event.previous_event_hash}</code>`);
    }
  });

  it('keeps a place for a signed checkpoint and inclusion proofs without claiming one', () => {
    expect(section(html, 'transparency')).toContain(
      'This bundle carries no signed checkpoint and no inclusion proofs.',
    );
  });

  it('prints on A4 and lets long values wrap instead of widening the page', () => {
    expect(html).toMatch(/@page\{size:A4;margin:[\d.]+mm [\d.]+mm\}/);
    expect(html).toContain('table-layout:fixed');
    expect(html).toMatch(/td,code\{overflow-wrap:anywhere\}/);
  });

  it('escapes hostile grant ids, reasons and long unbroken values everywhere', () => {
    const hostileGrant = `G"><script>alert('g')</script>${'W'.repeat(300)}`;
    const reason = `</td></tr><script>alert("r")</script>' onmouseover='x`;
    const steps: Step[] = [
      STEPS[0] as Step,
      {
        stage: 'submission',
        action: 'REJECT',
        errorCategory: 'FUNDER_REJECTION',
        details: { reason, tracking_number: '9'.repeat(500) },
      },
    ];
    const hostile = trail(hostileGrant, `t"<b>`, steps);
    const page = buildEvidenceBundle(hostileGrant, hostile, verify(hostile), GENERATED_AT).html;
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toContain('<b>');
    expect(page).not.toContain(`' onmouseover='`);
    expect(page).toContain('&#39; onmouseover=&#39;x');
    expect(page).toContain(
      `G&quot;&gt;&lt;script&gt;alert(&#39;g&#39;)&lt;/script&gt;${'W'.repeat(300)}`,
    );
    expect(page).toContain(
      '&lt;/td&gt;&lt;/tr&gt;&lt;script&gt;alert(&quot;r&quot;)&lt;/script&gt;&#39;',
    );
    expect(page).toContain(`<code>t&quot;&lt;b&gt;</code>`);
    expect(page).toContain('9'.repeat(500));
    // Every attribute value the page writes is one it made itself or an escaped one.
    for (const [, value] of page.matchAll(
      /\b(?:title|datetime|data-label|href|class|id)="([^"]*)"/g,
    )) {
      expect(value).not.toMatch(/[<>]/);
    }
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('buildEvidenceBundle with a signed checkpoint and inclusion proofs', () => {
  const events = trail('G-1');
  const leaf = (e: AuditEventV1, i: number) => ({
    leafIndex: 10 + i,
    key: `G-1:${e.event_id}`,
    eventHash: e.event_hash,
  });
  const proof = (i: number) => ({
    checkpoint: 'note',
    verifierKey: 'log+00000000+AA==',
    leaf: 'AA==',
    leafIndex: 10 + i,
    treeSize: 20,
    inclusionPath: ['AA==', 'AA=='],
  });
  const transparency = {
    checkpoint: {
      origin: 'grantstream.example/audit',
      size: 20,
      rootHash: 'q3J2',
      time: '2025-07-01T08:00:00.000Z',
      note: 'grantstream.example/audit\n20\nq3J2\n\n— grantstream.example/audit <sig>\n',
      verifierKey: 'grantstream.example/audit+0a1b2c3d+AV3k',
      ref: 'grants.audit.checkpoints.v1/0/3',
    },
    proofs: events.slice(0, 4).map((_, i) => proof(i)),
    proved: events.slice(0, 4).map(leaf),
    notCovered: events.slice(4).map((e) => leaf(e, 4)),
  };
  const { json, html } = buildEvidenceBundle(
    'G-1',
    events,
    verify(events),
    GENERATED_AT,
    transparency,
  );

  it('carries the checkpoint and the proofs in the JSON', () => {
    expect(json.transparency).toEqual(transparency);
  });

  it('says in plain words what was proved, what was not yet, and how to check it', () => {
    expect(html).toContain('Proved against a signed checkpoint.');
    expect(html).toContain('4 of 5 events of this grant’s timeline'.replace('’', "'"));
    expect(html).toContain('1 more was logged after it');
    expect(html).toContain('What it does not prove.');
    expect(html).toContain('node verify.mjs proof.json');
    expect(html).toContain('4 of 5 events proved in the audit log at tree size 20');
    // The note is evidence: shown whole, escaped.
    expect(html).toContain('&lt;sig&gt;');
    expect(html).not.toContain('<sig>');
  });

  it('names timeline events that are in no leaf of the log', () => {
    const partial = { ...transparency, proved: transparency.proved.slice(1), notCovered: [] };
    const page = buildEvidenceBundle('G-1', events, verify(events), GENERATED_AT, partial).html;
    expect(page).toContain('2 events of the timeline are in no leaf of the log.');
  });

  it('says plainly when the bundle carries no checkpoint', () => {
    const page = buildEvidenceBundle('G-1', events, verify(events), GENERATED_AT).html;
    expect(page).toContain('This bundle carries no signed checkpoint and no inclusion proofs.');
  });
});
