import type { Finding, FindingKind, TrailLink, TrailSummary } from './chain-verifier';
import type {
  EvidenceBundle,
  EvidenceTimelineEntry,
  EvidenceTransparency,
} from './evidence-bundle';
import { AUDIT_GENESIS_HASH } from './hashing';
import { isoOf } from './format';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Characters of a hash the page shows where space is short; the full value stays in the page. */
export const SHORT_HASH_CHARS = 12;

/**
 * One page for screens and paper, no scripts and no external resources.
 * Tables have a fixed layout and every cell wraps anywhere, so a 64-character
 * hash, a long tracking number or a portal message can never widen a table
 * past the screen or the A4 content width (186 mm between 12 mm margins).
 * Below 48em the tables become one card per row, labelled from data-label.
 */
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#111;background:#fff;margin:0 auto;padding:1.25rem;max-width:75rem}
h1{font-size:1.45rem;margin:0 0 .4rem}
h2{font-size:1.15rem;margin:1.8rem 0 .5rem;padding-bottom:.15rem;border-bottom:2px solid #333}
h3{font-size:1rem;margin:0 0 .35rem}
h1,h2,h3,p,li,dt,dd,th,td,code{overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.86em}
a{color:#0b4f8a}
.note{color:#444;font-size:.9em;margin:.2rem 0 .6rem}
.verdict{margin:.7rem 0;padding:.55rem .8rem;border-left:5px solid #666;background:#f4f4f4}
.verdict.ok{border-color:#1a7f37;background:#edf7ef}
.verdict.bad{border-color:#b42318;background:#fcefed}
.verdict strong{font-size:1.05em}
dl{margin:0}
dl.summary,dl.fields{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem}
dl.fields{grid-template-columns:11.5em minmax(0,1fr);font-size:.92em}
dt{font-weight:600}
dd{margin:0;min-width:0}
table{width:100%;border-collapse:collapse;table-layout:fixed;font-size:.9em;margin:.3rem 0}
th,td{border:1px solid #bbb;padding:.3rem .45rem;text-align:left;vertical-align:top}
thead th{background:#ececec}
tr.trail th{background:#f7f7f7;font-weight:normal}
tr.trail th strong{font-weight:600}
.hashes span{display:block}
.result.ok{color:#1a5f2a;font-weight:600}.result.bad{color:#9b1c12;font-weight:600}
.muted{color:#555}
ul.full{padding-left:1.2rem;margin:.3rem 0}
.event{border-top:1px solid #ccc;padding:.6rem 0}
.details-list{margin:0;padding:0;list-style:none}
col.c-n{width:5%}col.c-time{width:14%}col.c-stage{width:13%}col.c-action{width:18%}col.c-what{width:29%}col.c-hash{width:21%}
col.c-kind{width:17%}col.c-trail{width:17%}col.c-event{width:17%}col.c-pos{width:12%}col.c-msg{width:37%}
col.c-pn{width:9%}col.c-ph{width:24%}col.c-pl{width:12%}col.c-pp{width:13%}col.c-ps{width:42%}
pre.signed{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0;padding:.4rem .5rem;background:#f7f7f7;border:1px solid #ccc}
col.c-tn{width:7%}col.c-tid{width:33%}col.c-started{width:22%}col.c-count{width:10%}col.c-link{width:28%}
@media screen and (max-width:48em){
body{padding:.8rem;font-size:14px}
table,thead,tbody,tr,th,td{display:block;width:auto}
colgroup{display:none}
thead tr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table{border:0}
tr{border:1px solid #bbb;margin:.5rem 0;padding:.25rem .5rem}
tr.trail{border:0;padding:0;margin-top:1rem}
td,th{border:0;padding:.1rem 0}
td[data-label]{position:relative;padding-left:6.8rem;min-height:1.4em}
td[data-label]::before{content:attr(data-label);position:absolute;left:0;width:6.3rem;font-size:.8em;line-height:1.8;color:#555}
dl.fields{grid-template-columns:minmax(0,1fr);gap:0}
dl.fields dd{margin-bottom:.3rem}
}
@page{size:A4;margin:14mm 12mm}
@media print{
body{font-size:9pt;padding:0;margin:0;max-width:none}
h1{font-size:15pt}h2{font-size:12pt;break-after:avoid}
thead{display:table-header-group}
tr,.event,.verdict{break-inside:avoid}
a{color:inherit;text-decoration:none}
.verdict{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
`;

/** What each finding kind means for a reader who does not know the verifier. */
const FINDING_WORDS: Record<FindingKind, string> = {
  ALTERED: 'an event does not match its own hash: its content was changed',
  TOMBSTONE: 'an event was deleted from the topic',
  DUPLICATE_CONFLICT: 'one event was recorded twice with different content',
  FORK: 'two different events claim the same predecessor: one was inserted',
  GAP: 'an event is missing before another',
  NO_GENESIS: 'the first event of a trail is missing',
  NOT_INGESTED: 'a trail does not start at ingest',
  LINK_UNRESOLVED: 'a trail names an earlier trail this grant does not have',
};

const LINK_WORDS: Record<TrailLink['kind'], string> = {
  RESUBMISSION: 'resubmission (changed content) of',
  DUPLICATE: 'duplicate, filed nothing; the content was filed by',
  RE_READ: 're-read of the same application; the content was filed by',
};

const e = escapeHtml;

/** Upper-case identifiers (`STATUS_CHANGED`) may break after an underscore rather than mid-word. */
function ident(value: string): string {
  return e(value).replace(/_/g, '_<wbr>');
}

/** `2026-03-01 08:30:00 UTC` (milliseconds only when there are some), with the ISO value for machines. */
function timeOf(epochMs: number): string {
  const iso = isoOf(epochMs);
  const shown = iso
    .replace('T', ' ')
    .replace(/\.000Z$/, '')
    .replace(/Z$/, '');
  return `<time datetime="${e(iso)}">${e(shown)}</time>`;
}

/** A hash shown by its first characters; the full value in the title (hover, screen readers). */
function shortHash(hash: string): string {
  return `<code title="${e(hash)}">${e(hash.slice(0, SHORT_HASH_CHARS))}</code>`;
}

/** A full value, selectable and wrapping anywhere. */
function full(value: string): string {
  return `<code>${e(value)}</code>`;
}

function td(label: string, content: string, className?: string): string {
  return `<td data-label="${e(label)}"${className === undefined ? '' : ` class="${className}"`}>${content}</td>`;
}

function colgroup(...names: string[]): string {
  return `<colgroup>${names.map((n) => `<col class="c-${n}">`).join('')}</colgroup>`;
}

function thead(...headings: string[]): string {
  return `<thead><tr>${headings.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead>`;
}

/** The verdict in plain words, with what a hash chain alone cannot show. */
function verdictOf(bundle: EvidenceBundle): { ok: boolean; html: string } {
  const { result, findings } = bundle.verification;
  const events = bundle.timeline.length;
  const trails = bundle.trails.length;
  if (result === 'CHAIN_INTACT') {
    return {
      ok: true,
      html: `<strong>Intact.</strong> Each of the ${events} recorded event${events === 1 ? '' : 's'} in ${trails} trail${
        trails === 1 ? '' : 's'
      } links by its hash to the one before it, back to the start of its trail: no recorded event was changed, and none is missing between the first and the last event of a trail.`,
    };
  }
  if (result === 'NO_EVENTS') {
    return {
      ok: false,
      html: '<strong>No record.</strong> No audit events were found for this grant.',
    };
  }
  const kinds = [...new Set(findings.map((f) => f.kind))];
  return {
    ok: false,
    html: `<strong>Not intact.</strong> ${findings.length} finding${
      findings.length === 1 ? '' : 's'
    }: the record of this grant was altered or is incomplete (${kinds
      .map((k) => e(FINDING_WORDS[k]))
      .join('; ')}). See Verification.`,
  };
}

function outcomeOf(bundle: EvidenceBundle): string {
  const o = bundle.outcome;
  if (o === null) return 'none recorded';
  const parts = [
    `${e(o.stage)} ${ident(o.action)}`,
    o.status === null ? null : `status ${e(o.status)}`,
    o.trackingNumber === null ? null : `tracking number ${e(o.trackingNumber)}`,
  ].filter((p) => p !== null);
  return `${parts.join(', ')} on ${timeOf(o.occurredAt)} UTC (<a href="#e-${o.position}">event ${o.position}</a>)`;
}

/** "trail 2" for a trail of this grant, else its id (a link the grant cannot resolve). */
function trailName(trailId: string, trails: readonly TrailSummary[]): string {
  const i = trails.findIndex((t) => t.trailId === trailId);
  return i < 0 ? `trail ${full(trailId)} (not among this grant's trails)` : `trail ${i + 1}`;
}

function linkWords(link: TrailLink | null, trails: readonly TrailSummary[]): string {
  return link === null ? '' : `${e(LINK_WORDS[link.kind])} ${trailName(link.ofTrail, trails)}`;
}

/** What an event decided or ran into, in one cell. */
function whatOf(t: EvidenceTimelineEntry): string {
  const parts = [
    t.errorCategory === null
      ? null
      : `${ident(t.errorCategory)}${t.severity === null ? '' : ` (${e(t.severity)})`}`,
    t.status === null ? null : `status ${e(t.status)}`,
    t.details['outcome'] === undefined ? null : `outcome ${ident(t.details['outcome'])}`,
    t.trackingNumber === null ? null : `tracking ${e(t.trackingNumber)}`,
    t.attempt === null ? null : `attempt ${e(t.attempt)}`,
    t.ruleSetVersion === null ? null : `rules ${e(t.ruleSetVersion)}`,
  ].filter((p) => p !== null);
  return parts.length === 0 ? '<span class="muted">-</span>' : parts.join('<br>');
}

function timelineSection(bundle: EvidenceBundle): string {
  if (bundle.timeline.length === 0) {
    return `<section id="timeline"><h2>Timeline</h2><p>No events.</p></section>`;
  }
  const groups = bundle.trails
    .map((trail, i) => {
      const rows = bundle.timeline.filter((t) => t.trailId === trail.trailId);
      if (rows.length === 0) return '';
      const link = linkWords(trail.link, bundle.trails);
      const head = `<tr class="trail"><th colspan="6" scope="colgroup"><strong>Trail ${i + 1}</strong>, started ${timeOf(
        trail.startedAt,
      )}${link === '' ? '' : `: ${link}`}<br><span class="muted">${full(trail.trailId)}</span></th></tr>`;
      return `<tbody>\n${head}\n${rows.map(timelineRow).join('\n')}\n</tbody>`;
    })
    .join('\n');
  // Events of a trail the report does not list (none today) still appear, after the listed ones.
  const listed = new Set(bundle.trails.map((t) => t.trailId));
  const rest = bundle.timeline.filter((t) => !listed.has(t.trailId));
  const restGroup =
    rest.length === 0 ? '' : `<tbody>\n${rest.map(timelineRow).join('\n')}\n</tbody>`;
  return `<section id="timeline">
<h2>Timeline</h2>
<p class="note">One row per event, trail by trail, each in chain order. Hashes show their first ${SHORT_HASH_CHARS} characters; the full values are under Event details.</p>
<table class="timeline">
${colgroup('n', 'time', 'stage', 'action', 'what', 'hash')}
${thead('#', 'Time (UTC)', 'Stage', 'Action', 'Outcome / category', 'Hashes')}
${groups}${restGroup}
</table>
</section>`;
}

function timelineRow(t: EvidenceTimelineEntry): string {
  return `<tr id="t-${t.position}">${td('#', `<a href="#e-${t.position}">${t.position}</a>`)}${td(
    'Time (UTC)',
    timeOf(t.occurredAt),
  )}${td('Stage', e(t.stage))}${td('Action', ident(t.action))}${td(
    'Outcome / category',
    whatOf(t),
  )}${td(
    'Hashes',
    `<span>event ${shortHash(t.eventHash)}</span><span>payload ${shortHash(t.payloadHash)}</span>`,
    'hashes',
  )}</tr>`;
}

function verificationSection(bundle: EvidenceBundle): string {
  const { result, summary, findings } = bundle.verification;
  const positions = new Map(bundle.timeline.map((t) => [t.eventId, t.position]));
  const eventCell = (f: Finding): string => {
    if (f.eventId === undefined) return '';
    const at = positions.get(f.eventId);
    return `${shortHash(f.eventId)}${at === undefined ? '' : ` <a href="#e-${at}">event ${at}</a>`}`;
  };
  const table =
    findings.length === 0
      ? ''
      : `<table class="findings">
${colgroup('kind', 'trail', 'event', 'pos', 'msg')}
${thead('Finding', 'Trail', 'Event', 'Partition/offset', 'What was found')}
<tbody>
${findings
  .map(
    (f) =>
      `<tr>${td('Finding', `${ident(f.kind)}<br><span class="muted">${e(FINDING_WORDS[f.kind])}</span>`)}${td(
        'Trail',
        f.trailId === undefined ? '' : trailName(f.trailId, bundle.trails),
      )}${td('Event', eventCell(f))}${td(
        'Partition/offset',
        f.partition === undefined ? '' : e(`${f.partition}/${f.offset ?? ''}`),
      )}${td('What was found', e(f.message))}</tr>`,
  )
  .join('\n')}
</tbody>
</table>
<h3>Event ids in full</h3>
<ul class="full">${[
          ...new Set(findings.flatMap((f) => (f.eventId === undefined ? [] : [f.eventId]))),
        ]
          .map((id) => `<li>${full(id)}</li>`)
          .join('')}</ul>`;
  return `<section id="verification">
<h2>Verification</h2>
<p class="result ${result === 'CHAIN_INTACT' ? 'ok' : 'bad'}">${e(summary)}</p>
${table}
</section>`;
}

/** Timeline events the proofs cover, those logged after the checkpoint, and those in no leaf. */
function proofCoverage(
  bundle: EvidenceBundle,
  t: EvidenceTransparency,
): { proved: number; later: number; absent: number } {
  const proved = new Set(t.proved.map((p) => p.eventHash));
  const later = new Set(t.notCovered.map((p) => p.eventHash));
  let inProof = 0;
  let afterwards = 0;
  let absent = 0;
  for (const entry of bundle.timeline) {
    if (proved.has(entry.eventHash)) inProof += 1;
    else if (later.has(entry.eventHash)) afterwards += 1;
    else absent += 1;
  }
  return { proved: inProof, later: afterwards, absent };
}

/** One line for the summary: how many events are proved, against which checkpoint. */
function logProofLine(bundle: EvidenceBundle): string {
  const t = bundle.transparency;
  if (t === null) return '<span class="muted">none in this bundle</span>';
  const c = proofCoverage(bundle, t);
  return `${c.proved} of ${bundle.timeline.length} events proved in the audit log at tree size ${t.checkpoint.size}${
    t.checkpoint.time === null ? '' : `, signed ${timeOf(Date.parse(t.checkpoint.time))} UTC`
  } (<a href="#transparency">how</a>)`;
}

/**
 * The signed checkpoint and the inclusion proofs, in plain words: what they
 * prove, what they do not, and how anyone checks them without our systems.
 * Without them the page says so rather than imply more than the hash chain proved.
 */
function transparencySection(bundle: EvidenceBundle): string {
  const t = bundle.transparency;
  if (t === null) {
    return `<section id="transparency">
<h2>Signed checkpoint and inclusion proofs</h2>
<p>This bundle carries no signed checkpoint and no inclusion proofs. The verdict above rests on the hash chains alone, which cannot show an event removed from the very end of a trail, or a whole trail removed.</p>
</section>`;
  }
  const c = proofCoverage(bundle, t);
  const events = bundle.timeline.length;
  const positions = new Map(bundle.timeline.map((entry) => [entry.eventHash, entry.position]));
  const eventCell = (hash: string): string => {
    const at = positions.get(hash);
    return at === undefined
      ? '<span class="muted">not in the timeline</span>'
      : `<a href="#e-${at}">event ${at}</a>`;
  };
  const rows = [
    ...t.proved.map(
      (p, i) =>
        `<tr>${td('Event', eventCell(p.eventHash))}${td('Event hash', shortHash(p.eventHash))}${td(
          'Leaf',
          String(p.leafIndex),
        )}${td('Proof', `${t.proofs[i]?.inclusionPath.length ?? 0} hashes`)}${td(
          'Result',
          '<span class="result ok">in the log at this checkpoint</span>',
        )}</tr>`,
    ),
    ...t.notCovered.map(
      (p) =>
        `<tr>${td('Event', eventCell(p.eventHash))}${td('Event hash', shortHash(p.eventHash))}${td(
          'Leaf',
          String(p.leafIndex),
        )}${td('Proof', '-')}${td('Result', 'logged after this checkpoint: not provable against it yet')}</tr>`,
    ),
  ].join('\n');
  const absent =
    c.absent === 0
      ? ''
      : `<p class="verdict bad"><strong>${c.absent} event${c.absent === 1 ? '' : 's'} of the timeline ${
          c.absent === 1 ? 'is' : 'are'
        } in no leaf of the log.</strong> The log never recorded ${
          c.absent === 1 ? 'it' : 'them'
        }: written to the topic behind the log, or after its last recorded leaf. Run <code>grantctl audit verify</code>.</p>`;
  return `<section id="transparency">
<h2>Signed checkpoint and inclusion proofs</h2>
<p class="verdict ${c.proved === events && events > 0 ? 'ok' : 'bad'}"><strong>Proved against a signed checkpoint.</strong> ${c.proved} of ${events} events of this grant's timeline are entries of the audit log ${full(
    t.checkpoint.origin,
  )} as it stood at its checkpoint of tree size ${t.checkpoint.size}${
    t.checkpoint.time === null ? '' : `, signed ${timeOf(Date.parse(t.checkpoint.time))} UTC`
  }.${c.later === 0 ? '' : ` ${c.later} more ${c.later === 1 ? 'was' : 'were'} logged after it and can be proved against a later checkpoint.`}</p>
${absent}
<p><strong>What this proves.</strong> The holder of the log's signing key signed a checkpoint stating the log's size and root hash. Each proof recomputes that root hash from one event and a few other hashes: the event was in the log when the checkpoint was signed. Any later removal or change of these events contradicts this signed checkpoint, which anyone can show.</p>
<p><strong>What it does not prove.</strong> That the events are true (the log records what was decided, not whether it was right); that nothing was added; or that the key below is the log's real key: compare it with the key the log operator publishes.</p>
<p><strong>How to check it yourself.</strong> Each proof is in the JSON bundle under <code>transparency.proofs</code>, and in the proofs folder written next to it. With nothing but Node.js, run <code>node verify.mjs proof.json</code> (the standalone verifier in <code>tools/audit-proof-verifier</code>, a single file to read before trusting it); it answers "verified" or says why not.</p>
<table class="proofs">
${colgroup('pn', 'ph', 'pl', 'pp', 'ps')}
${thead('Event', 'Event hash', 'Leaf', 'Proof', 'Result')}
<tbody>
${rows}
</tbody>
</table>
<h3>The signed checkpoint</h3>
<dl class="fields">
${[
  field('Log', full(t.checkpoint.origin)),
  field('Tree size', String(t.checkpoint.size)),
  field('Root hash', full(t.checkpoint.rootHash)),
  field(
    'Signed',
    t.checkpoint.time === null ? null : `${timeOf(Date.parse(t.checkpoint.time))} UTC`,
  ),
  field('Verifier key', full(t.checkpoint.verifierKey)),
  field('Read from', full(t.checkpoint.ref)),
].join('')}
</dl>
<pre class="signed">${e(t.checkpoint.note)}</pre>
</section>`;
}

function trailsSection(bundle: EvidenceBundle): string {
  if (bundle.trails.length === 0) return '';
  return `<section id="trails">
<h2>Trails</h2>
<p class="note">One trail per submission or read of the application, in the order they started.</p>
<table class="trails">
${colgroup('tn', 'tid', 'started', 'count', 'link')}
${thead('#', 'Trail id', 'Started (UTC)', 'Events', 'Link')}
<tbody>
${bundle.trails
  .map(
    (t, i) =>
      `<tr>${td('#', String(i + 1))}${td('Trail id', full(t.trailId))}${td(
        'Started (UTC)',
        timeOf(t.startedAt),
      )}${td('Events', String(t.events))}${td(
        'Link',
        t.link === null ? '<span class="muted">-</span>' : linkWords(t.link, bundle.trails),
      )}</tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>`;
}

function field(name: string, value: string | null): string {
  return value === null ? '' : `<dt>${e(name)}</dt><dd>${value}</dd>`;
}

function eventDetails(t: EvidenceTimelineEntry, trails: readonly TrailSummary[]): string {
  const keys = Object.keys(t.details).sort();
  return `<article class="event" id="e-${t.position}">
<h3><a href="#t-${t.position}">${t.position}</a>. ${e(t.stage)} ${ident(t.action)}, ${timeOf(t.occurredAt)} UTC</h3>
<dl class="fields">
${[
  field('Trail', `${trailName(t.trailId, trails)}: ${full(t.trailId)}`),
  field('Event id', full(t.eventId)),
  field('Event hash', full(t.eventHash)),
  field(
    'Previous event hash',
    `${full(t.previousEventHash)}${t.previousEventHash === AUDIT_GENESIS_HASH ? ' <span class="muted">(genesis: the start of the trail)</span>' : ''}`,
  ),
  field('Payload hash', full(t.payloadHash)),
  field('Service', e(t.service)),
  field(
    'Source',
    t.source === null
      ? '<span class="muted">none (not driven by a message)</span>'
      : `${full(t.source.topic)} partition ${t.source.partition}, offset ${e(String(t.source.offset))}`,
  ),
  field('Rule set', t.ruleSetVersion === null ? null : e(t.ruleSetVersion)),
  field(
    'Error',
    t.errorCategory === null
      ? null
      : `${ident(t.errorCategory)}${t.severity === null ? '' : `, severity ${e(t.severity)}`}`,
  ),
  field(
    'Details',
    keys.length === 0
      ? null
      : `<ul class="details-list">${keys
          .map((k) => `<li>${full(k)} = ${e(t.details[k] ?? '')}</li>`)
          .join('')}</ul>`,
  ),
].join('')}
</dl>
</article>`;
}

function detailsSection(bundle: EvidenceBundle): string {
  return `<section id="details">
<h2>Event details</h2>
${bundle.timeline.length === 0 ? '<p>No events.</p>' : bundle.timeline.map((t) => eventDetails(t, bundle.trails)).join('\n')}
</section>
<section id="payloads">
<h2>Payload hashes</h2>
<p class="note">SHA-256 of each distinct input message, to match against the input topics and dead letters.</p>
<ul class="full">
${bundle.payloadHashes.map((h) => `<li>${full(h)}</li>`).join('\n')}
</ul>
</section>`;
}

/**
 * The bundle as one page a person reads first on a screen, then perhaps on
 * paper: a summary with the verdict in plain words, the timeline (one row per
 * event, hashes short), then verification, the place of signed checkpoints and
 * inclusion proofs, the trails and every event in full. Every value is escaped:
 * audit details come from funder portals and uploaded data, which must not be
 * able to inject markup into evidence. Pure: the same bundle gives the same bytes.
 */
export function renderEvidenceHtml(bundle: EvidenceBundle): string {
  const verdict = verdictOf(bundle);
  const trails = bundle.trails.length;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit evidence: grant ${e(bundle.grantId)}</title>
<style>${STYLE}</style>
</head>
<body>
<header id="summary">
<h1>Audit evidence: grant ${e(bundle.grantId)}</h1>
<p class="verdict ${verdict.ok ? 'ok' : 'bad'}">${verdict.html}</p>
<dl class="summary">
<dt>Grant</dt><dd>${e(bundle.grantId)}</dd>
<dt>Funder</dt><dd>${bundle.funderId === null ? '<span class="muted">unknown</span>' : e(bundle.funderId)}</dd>
<dt>Outcome</dt><dd>${outcomeOf(bundle)}</dd>
<dt>Trails</dt><dd>${trails === 0 ? 'none' : `${trails}: ${bundle.trails.map((t) => full(t.trailId)).join(', ')}`}</dd>
<dt>Events</dt><dd>${bundle.timeline.length}</dd>
<dt>Log proof</dt><dd>${logProofLine(bundle)}</dd>
<dt>Compliance</dt><dd>${e(bundle.complianceTags.join(', '))}</dd>
<dt>Generated</dt><dd>${timeOf(bundle.generatedAt)} UTC</dd>
</dl>
</header>
<main>
${timelineSection(bundle)}
${verificationSection(bundle)}
${transparencySection(bundle)}
${trailsSection(bundle)}
${detailsSection(bundle)}
</main>
</body>
</html>
`;
}
