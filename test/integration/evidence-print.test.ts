// Guarantee: the evidence page of `grantctl audit export` reads on a screen
// and prints on paper without losing anything: at 1024 px and 390 px it never
// scrolls sideways, printed on A4 every table fits the page's content width
// and nothing of the timeline runs past it, the PDF pages are A4, and every
// 64-character hash stays in the page in full although the timeline shows it
// short. Checked in a real headless Chromium (Debian's, installed when missing).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  ChainVerifier,
  buildAuditEvent,
  MerkleLog,
  auditLeafFieldsOf,
  auditLeafHash,
  buildEvidenceBundle,
  generateNoteKey,
  payloadHashOf,
  proveGrant,
  signCheckpoint,
  type AuditDecision,
  type EvidenceTransparency,
} from '@grantstream/audit';
import type { AuditEventV1 } from '@grantstream/contracts';
import { ensureChromium, testConfig } from '@grantstream/testing';
import { CHROMIUM_ARGS } from '../support/browser';

const GRANT = 'NSF-2026-00042';
const T0 = Date.UTC(2026, 2, 1, 8, 30);
/** A4 in CSS pixels (96 per inch) and in PDF points (72 per inch). */
const A4_MM = { width: 210, height: 297 };
const PX_PER_MM = 96 / 25.4;
const PT_PER_MM = 72 / 25.4;

/**
 * The few DOM shapes the checks read inside the page: this project compiles
 * without the DOM library, and a function given to page.evaluate runs in the
 * browser, where `globalThis.document` is the page's document.
 */
interface PageElement {
  tagName: string;
  id: string;
  className: string;
  clientWidth: number;
  scrollWidth: number;
  innerText: string;
  attributes: Iterable<{ value: string }>;
  getBoundingClientRect(): { right: number };
  querySelectorAll(selector: string): Iterable<PageElement>;
}
interface PageDocument {
  documentElement: PageElement;
  body: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}

type Step = Pick<AuditDecision, 'stage' | 'action'> & Partial<AuditDecision>;

/** A grant's life with what makes pages overflow: long unbroken values, hostile text. */
function trailOf(trailId: string, steps: Step[], from: number): AuditEventV1[] {
  let previous = AUDIT_GENESIS_HASH;
  return steps.map((step, i) => {
    const { event } = buildAuditEvent(
      {
        grantId: GRANT,
        funderId: 'NSF',
        auditTrailId: trailId,
        payloadHash: payloadHashOf(Buffer.from(`${trailId}:${i}`)),
        service: { name: `grantstream-${step.stage}`, version: '1.4.2' },
        occurredAt: from + i * 61_000,
        source: { topic: `grants.${step.stage}.v1`, partition: i % 6, offset: 1_000_000 + i },
        ...step,
      },
      previous,
    );
    previous = event.event_hash;
    return event;
  });
}

function bundleEvents(): AuditEventV1[] {
  const first = trailOf(
    'c0ffee00-1111-4222-8333-444455556666',
    [
      { stage: 'ingest', action: 'INGESTED' },
      { stage: 'routing', action: 'FORWARD', ruleSetVersion: 'nsf-rules-2026.03.01-build.7781' },
      {
        stage: 'submission',
        action: 'RETRY',
        errorCategory: 'API_RATE_LIMIT',
        severity: 'MEDIUM',
        details: { attempt: '1', retry_after: '900', portal_message: 'x'.repeat(400) },
      },
      {
        stage: 'submission',
        action: 'SUBMITTED',
        details: { attempt: '2', tracking_number: `TRK-${'9'.repeat(80)}` },
      },
      {
        stage: 'status-polling',
        action: 'STATUS_CHANGED',
        details: { status: 'AWARDED', note: '<script>alert("x")</script>'.repeat(4) },
      },
    ],
    T0,
  );
  const second = trailOf(
    'c0ffee00-7777-4888-9999-aaaabbbbcccc',
    [
      { stage: 'ingest', action: 'INGESTED' },
      {
        stage: 'submission',
        action: 'REJECT',
        details: {
          outcome: 'DUPLICATE',
          duplicate_of_trail: 'c0ffee00-1111-4222-8333-444455556666',
        },
      },
    ],
    T0 + 86_400_000,
  );
  return [...first, ...second];
}

/**
 * A real signed checkpoint over the grant's events (after a thousand other
 * leaves, so the proofs are as long as a busy log's) and their inclusion
 * proofs, as `grantctl audit export` puts them in the bundle: the page must
 * print them as well as the rest.
 */
function transparencyOf(events: readonly AuditEventV1[]): EvidenceTransparency {
  const key = generateNoteKey('grantstream.example/audit');
  const log = new MerkleLog();
  const hashes: Buffer[] = [];
  const append = (fields: { key: string; eventHash: string; stableHash: string }) => {
    const hash = auditLeafHash(fields);
    hashes.push(hash);
    return log.appendLeafHash(hash);
  };
  for (let i = 0; i < 1000; i += 1) {
    append({
      key: `OTHER-${i}:${'e'.repeat(64)}`,
      eventHash: 'a'.repeat(64),
      stableHash: 'b'.repeat(64),
    });
  }
  const grantLeaves = events.map((event) => {
    const fields = auditLeafFieldsOf(`${event.grant_id}:${event.event_id}`, event);
    return { index: append(fields), fields };
  });
  const time = new Date(T0 + 2 * 86_400_000);
  const note = signCheckpoint(
    { origin: 'grantstream.example/audit', size: log.size, rootHash: log.root(), time },
    key.signer,
  );
  const proved = proveGrant({
    leaves: hashes,
    grantLeaves,
    checkpoint: note,
    verifierKey: key.verifierKey,
    limits: { maxNoteBytes: 8192, maxSignatures: 16 },
  });
  if (!proved.ok) throw new Error(proved.detail);
  return {
    checkpoint: {
      origin: 'grantstream.example/audit',
      size: log.size,
      rootHash: log.root().toString('base64'),
      time: time.toISOString(),
      note,
      verifierKey: key.verifierKey,
      ref: 'grants.audit.checkpoints.v1/0/1',
    },
    proofs: proved.proofs.map((p) => p.file),
    proved: proved.proofs.map((p) => ({
      leafIndex: p.leafIndex,
      key: p.key,
      eventHash: p.eventHash,
    })),
    notCovered: [],
  };
}

describe('evidence page in a browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evidence-print-'));
  const events = bundleEvents();
  const verifier = new ChainVerifier();
  events.forEach((event, i) =>
    verifier.add({
      key: `${event.grant_id}:${event.event_id}`,
      event,
      partition: 0,
      offset: String(i),
    }),
  );
  const { html } = buildEvidenceBundle(
    GRANT,
    events,
    verifier.finish(),
    T0 + 2 * 86_400_000,
    transparencyOf(events),
  );
  const file = join(dir, `evidence-${GRANT}.html`);
  writeFileSync(file, html);
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const executablePath = await ensureChromium();
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = await context.newPage();
  }, testConfig().stack.chromium.installTimeoutMs + 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(width: number, media: 'screen' | 'print'): Promise<void> {
    await page.emulateMedia({ media });
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(file).href);
  }

  it.each([1024, 390])('does not scroll sideways on a %i px wide screen', async (width) => {
    await open(width, 'screen');
    const { scrollWidth, clientWidth } = await page.evaluate(() => {
      const { documentElement } = (globalThis as unknown as { document: PageDocument }).document;
      return { scrollWidth: documentElement.scrollWidth, clientWidth: documentElement.clientWidth };
    });
    expect(clientWidth).toBe(width);
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  });

  /** The @page rule's left and right margin in mm, or null when the page declares no A4 page. */
  function sideMarginMm(): number | null {
    const rule = /@page\s*\{[^}]*size:\s*A4[^}]*margin:\s*([\d.]+)mm(?:\s+([\d.]+)mm)?/.exec(html);
    return rule === null ? null : Number(rule[2] ?? rule[1]);
  }

  it('declares an A4 page with its margins', () => {
    expect(sideMarginMm(), 'an @page rule with size: A4 and margins in mm').not.toBeNull();
  });

  it('fits every table and the whole timeline in the content width of an A4 page', async () => {
    // Without a declared margin, the whole sheet's width: the most a table could have.
    const side = sideMarginMm() ?? 0;
    const contentWidth = Math.floor((A4_MM.width - 2 * side) * PX_PER_MM);
    await open(contentWidth, 'print');
    const layout = await page.evaluate(() => {
      const { document } = globalThis as unknown as { document: PageDocument };
      const right = document.documentElement.clientWidth;
      const tables = [...document.querySelectorAll('table')].map((t) => ({
        table: t.id || t.className || t.tagName,
        scrollWidth: t.scrollWidth,
        clientWidth: t.clientWidth,
        right: Math.round(t.getBoundingClientRect().right),
      }));
      const timeline = document.querySelector('#timeline');
      const outside = timeline
        ? [...timeline.querySelectorAll('*')]
            .filter((el) => {
              const box = el.getBoundingClientRect();
              return (
                box.right > right + 0.5 ||
                (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
              );
            })
            .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
        : null;
      return { tables, outside, scrollWidth: document.documentElement.scrollWidth, right };
    });
    expect(layout.tables.length).toBeGreaterThan(0);
    expect(
      // A table grows to its content: its own scrollWidth stays within it while it runs off the page.
      layout.tables.filter((t) => t.scrollWidth > t.clientWidth || t.right > layout.right),
      'tables wider than the A4 content width',
    ).toEqual([]);
    expect(layout.outside, 'the #timeline section and what overflows it').toEqual([]);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.right);
  });

  it('prints a PDF whose pages are A4', async () => {
    await open(1024, 'print');
    const pdf = await page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const boxes = [
      ...pdf
        .toString('latin1')
        .matchAll(/\/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]/g),
    ].map((m) => [Number(m[3]) - Number(m[1]), Number(m[4]) - Number(m[2])]);
    expect(boxes.length).toBeGreaterThan(0);
    // Chromium rounds A4 to hundredths of an inch (8.27 x 11.7 in): within a point or two.
    for (const [width = 0, height = 0] of boxes) {
      expect(Math.abs(width - A4_MM.width * PT_PER_MM)).toBeLessThan(2);
      expect(Math.abs(height - A4_MM.height * PT_PER_MM)).toBeLessThan(2);
    }
  });

  it('keeps every 64-character hash in full while the timeline shows it short', async () => {
    await open(1024, 'screen');
    const page_ = await page.evaluate(() => {
      const { document } = globalThis as unknown as { document: PageDocument };
      const attributes = [...document.querySelectorAll('*')].flatMap((el) =>
        [...el.attributes].map((a) => a.value),
      );
      return {
        text: document.body.innerText,
        attributes: attributes.join('\n'),
        timeline: document.querySelector('#timeline')?.innerText ?? '',
      };
    });
    const hashes = new Set(
      events.flatMap((e) => [e.event_hash, e.payload_hash, e.previous_event_hash, e.event_id]),
    );
    for (const hash of hashes) {
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(page_.text.includes(hash) || page_.attributes.includes(hash), hash).toBe(true);
    }
    for (const e of events) {
      expect(page_.timeline).toContain(e.event_hash.slice(0, 12));
      expect(page_.timeline).not.toContain(e.event_hash);
    }
  });
});
