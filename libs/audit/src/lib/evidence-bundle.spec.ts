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
    expect(html).not.toMatch(/(src|href)=/i);
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

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
