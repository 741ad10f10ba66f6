import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE, loadGrantstreamConfig } from '@grantstream/config';
import { SERVICE_DECLARATIONS } from '@grantstream/contracts';

// The dashboard and the alert rules may only name metrics that something
// exports: grantstream's own (declared with prom-client in libs/ and
// services/), prom-client's default process metrics, and the few external
// exporters listed here.

const ROOT = resolve(__dirname, '../../..');

interface MetricInfo {
  type: string;
  labels: Set<string>;
}

/** Labels every grantstream metric carries: the registry's defaults and Prometheus's target labels. */
const COMMON_LABELS = ['service', 'stage', 'instance', 'job'];

/** Metrics from exporters grantstream does not ship, with the labels they carry. */
const EXTERNAL: Record<string, { source: string; labels: string[] }> = {
  kafka_consumergroup_lag: {
    source: 'kafka-exporter (danielqsj/kafka-exporter)',
    labels: ['consumergroup', 'topic', 'partition', 'instance', 'job'],
  },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every metric the code declares with prom-client, from the source text. */
function declaredMetrics(): Map<string, MetricInfo> {
  const found = new Map<string, MetricInfo>();
  const files = ['libs', 'services'].flatMap((top) =>
    readdirSync(join(ROOT, top)).flatMap((p) => sourceFiles(join(ROOT, top, p, 'src'))),
  );
  const declaration =
    /new (Counter|Gauge|Histogram|Summary)\b[^(]*\(\{\s*name: '([a-zA-Z_:][a-zA-Z0-9_:]*)'([\s\S]*?)\}\);/g;
  for (const file of files) {
    for (const [, type, name, rest] of readFileSync(file, 'utf8').matchAll(declaration)) {
      const labelList = /labelNames: \[([^\]]*)\]/.exec(rest ?? '')?.[1] ?? '';
      const labels = [...labelList.matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
      const kind = (type ?? '').toLowerCase();
      // A histogram's buckets carry `le`.
      const bucket = kind === 'histogram' ? ['le'] : [];
      found.set(name ?? '', {
        type: kind,
        labels: new Set([...labels, ...bucket, ...COMMON_LABELS]),
      });
    }
  }
  return found;
}

async function collectKnownMetrics(): Promise<Map<string, MetricInfo>> {
  const known = declaredMetrics();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const m of await registry.getMetricsAsJSON()) {
    const labels = new Set([...COMMON_LABELS, ...m.values.flatMap((v) => Object.keys(v.labels))]);
    known.set(m.name, { type: String(m.type), labels });
  }
  for (const [name, { labels }] of Object.entries(EXTERNAL))
    known.set(name, { type: 'external', labels: new Set(labels) });
  return known;
}
let knownOnce: Promise<Map<string, MetricInfo>> | undefined;
/** Declared, default and external metrics, collected once. */
const knownMetrics = () => (knownOnce ??= collectKnownMetrics());

/** A referenced series name resolved to the metric declaring it (histograms add suffixes). */
function metricOf(series: string, metrics: Map<string, MetricInfo>): MetricInfo | undefined {
  const direct = metrics.get(series);
  if (direct) return direct;
  const base = /^(.*)_(bucket|sum|count)$/.exec(series)?.[1];
  const info = base === undefined ? undefined : metrics.get(base);
  return info && (info.type === 'histogram' || info.type === 'summary') ? info : undefined;
}

const METRIC_PREFIXES = /\b((?:grantstream|process|nodejs|kafka)_[a-z0-9_]+)\b/g;

/** Metric names and label names one PromQL expression uses. */
function referencesOf(expr: string): { metrics: string[]; labels: string[] } {
  const metrics = [...expr.matchAll(METRIC_PREFIXES)].map((m) => m[1] ?? '');
  const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const matched = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
    [...(m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? ''),
  );
  return { metrics, labels: [...grouped, ...matched] };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'monitoring/grafana/grantstream.json'), 'utf8'),
) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query?: unknown }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');

interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
const alertFile = parse(readFileSync(join(ROOT, 'monitoring/prometheus/alerts.yaml'), 'utf8')) as {
  groups: { name: string; rules: Rule[] }[];
};
const rules = alertFile.groups.flatMap((g) => g.rules);

const expressions: [string, string][] = [
  ...queryPanels.flatMap((p) =>
    (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}"`, t.expr]),
  ),
  ...rules.map((r): [string, string] => [`alert ${r.alert}`, String(r.expr)]),
];

describe('monitoring references only metrics that exist', () => {
  it('finds the metrics the code declares (the source scan works)', () => {
    const declared = declaredMetrics();
    expect(declared.get('grantstream_stage_dead_letters_total')?.labels).toContain('category');
    expect(declared.get('grantstream_funder_circuit_state')?.labels).toContain('funder');
  });

  it.each(expressions)('%s names declared metrics and their labels', async (_where, expr) => {
    const all = await knownMetrics();
    const { metrics, labels } = referencesOf(expr);
    expect(metrics.length).toBeGreaterThan(0);
    const infos = metrics.map((m) => {
      const info = metricOf(m, all);
      expect(info, `metric ${m}`).toBeDefined();
      return info;
    });
    const allowed = new Set(infos.flatMap((i) => [...(i?.labels ?? [])]));
    for (const label of labels) expect(allowed, `label ${label}`).toContain(label);
  });
});

describe('grafana dashboard', () => {
  it('has a uid, unique panel ids and a query in every panel', () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('defines every template variable its queries use', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    expect(defined).toContain('datasource');
    for (const [where, expr] of expressions.filter(([w]) => w.startsWith('panel'))) {
      for (const [, name] of expr.matchAll(/\$(?!__)([a-z_]+)/g))
        expect(defined, `${where}: $${name}`).toContain(name);
    }
  });

  it('covers the stage, latency, memory, dead-letter, lag and funder metrics', () => {
    const used = new Set(expressions.flatMap(([, e]) => referencesOf(e).metrics));
    for (const metric of [
      'grantstream_stage_messages_in_total',
      'grantstream_stage_records_out_total',
      'grantstream_stage_dead_letters_total',
      'grantstream_stage_transactions_committed_total',
      'grantstream_stage_transactions_aborted_total',
      'grantstream_stage_memory_paused',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'grantstream_submission_attempts_total',
      'grantstream_submission_retries_total',
      'grantstream_submission_deadline_escalations_total',
      'grantstream_funder_limiter_queued',
      'grantstream_funder_limiter_running',
      'grantstream_funder_circuit_state',
      'grantstream_consumer_lag',
      'grantstream_stage_handling_seconds_bucket',
      'grantstream_stage_latency_seconds_bucket',
      'grantstream_stage_paused_partitions',
      'grantstream_funder_api_request_seconds_bucket',
      'grantstream_funder_api_request_seconds_count',
      'kafka_consumergroup_lag',
    ])
      expect(used, metric).toContain(metric);
  });
});

describe('prometheus alert rules', () => {
  const operations = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
  /** GitHub's anchors of the document's headings. */
  const anchors = new Set(
    [...operations.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );

  it.each(rules.map((r) => [r.alert ?? '(unnamed)', r] as const))(
    '%s has an expression, a for, a severity and annotations that link the runbook',
    (_name, rule) => {
      expect(rule.alert).toMatch(/^Grantstream[A-Za-z]+$/);
      expect(typeof rule.expr === 'string' && rule.expr.trim().length > 0).toBe(true);
      expect(String(rule.for)).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.['severity']);
      for (const key of ['summary', 'description']) {
        const text = rule.annotations?.[key];
        expect(typeof text === 'string' && text.trim().length > 0, key).toBe(true);
      }
      const runbook = /^docs\/operations\.md#(.+)$/.exec(String(rule.annotations?.['runbook_url']));
      expect(runbook, 'runbook_url').not.toBeNull();
      expect(anchors).toContain(runbook?.[1]);
    },
  );

  it('alerts on growing lag, dead letters, an open circuit, a deadline at risk and the memory guard', () => {
    const byMetric = (metric: string) =>
      rules
        .filter((r) => referencesOf(String(r.expr)).metrics.includes(metric))
        .map((r) => r.alert);
    expect(byMetric('grantstream_consumer_lag')).toContain('GrantstreamConsumerLagGrowing');
    expect(byMetric('grantstream_stage_dead_letters_total')).toContain(
      'GrantstreamDeadLettersAppearing',
    );
    expect(byMetric('grantstream_funder_circuit_state')).toContain('GrantstreamFunderCircuitOpen');
    expect(byMetric('grantstream_submission_deadline_escalations_total')).toContain(
      'GrantstreamDeadlineAtRisk',
    );
    expect(byMetric('grantstream_stage_memory_trickle')).toContain(
      'GrantstreamMemoryGuardTrickling',
    );
    expect(byMetric('grantstream_stage_memory_resumes_total')).toContain(
      'GrantstreamMemoryPausesTimingOut',
    );
    expect(byMetric('grantstream_stage_poison_isolated_total')).toEqual(
      expect.arrayContaining([
        'GrantstreamPoisonInputIsolated',
        'GrantstreamPoisonInputUnrecorded',
      ]),
    );
    expect(byMetric('grantstream_stage_dead_letters_shrunk_total')).toContain(
      'GrantstreamDeadLettersByReference',
    );
  });

  it('waits on no memory pause longer than a pause can last (maxPauseMs, then a trickle)', () => {
    const config = loadGrantstreamConfig({});
    const raw = parse(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as Record<
      string,
      { runner?: { memory?: { maxPauseMs?: number } } }
    >;
    const longestPauseMs = Math.max(
      config.runner.memory.maxPauseMs,
      ...Object.values(raw).map((section) => section?.runner?.memory?.maxPauseMs ?? 0),
    );
    const durationMs = (d: string): number => {
      const m = /^(\d+)([smh])$/.exec(d);
      return Number(m?.[1]) * { s: 1e3, m: 6e4, h: 36e5 }[(m?.[2] ?? 's') as 's' | 'm' | 'h'];
    };
    for (const rule of rules) {
      if (!referencesOf(String(rule.expr)).metrics.includes('grantstream_stage_memory_paused'))
        continue;
      expect(durationMs(String(rule.for)), `${rule.alert}: for`).toBeLessThan(longestPauseMs);
    }
  });

  it("names each stage metric as libs/kafka's stage metrics declare it, with label values the runner emits", () => {
    const stageMetricsFile = join(ROOT, 'libs/kafka/src/lib/observability/stage-metrics.ts');
    const stageMetrics = new Set(
      [...readFileSync(stageMetricsFile, 'utf8').matchAll(/name: '(grantstream_[a-z0-9_]+)'/g)].map(
        (m) => m[1],
      ),
    );
    // String literals of the runner and its metrics: every label value they can emit.
    const literals = new Set(
      sourceFiles(join(ROOT, 'libs/kafka/src/lib')).flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/'([A-Za-z0-9_]+)'/g)].map((m) => m[1]),
      ),
    );
    const own = /^grantstream_(stage_|consumer_lag$)/;
    for (const rule of rules) {
      const expr = String(rule.expr);
      for (const metric of referencesOf(expr).metrics.filter((m) => own.test(m))) {
        const base = /^(.*)_(bucket|sum|count)$/.exec(metric)?.[1];
        expect(
          stageMetrics.has(metric) || (base !== undefined && stageMetrics.has(base)),
          `${rule.alert}: ${metric} in stage-metrics.ts`,
        ).toBe(true);
      }
      for (const [, selector] of expr.matchAll(/grantstream_stage_[a-z0-9_]+\{([^}]*)\}/g)) {
        for (const [, label, value] of (selector ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) {
          expect(literals, `${rule.alert}: ${label}="${value}"`).toContain(value);
        }
      }
    }
  });

  it('gives every alert a unique name', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('prometheus scrape config', () => {
  it('scrapes every service of schemas/pipeline.yaml that serves /metrics, at its port, and loads the alert rules', () => {
    // Stages and services alike serve /metrics on <section>.metrics.port; the
    // manifest spec checks the configuration gives the same port.
    const ports = SERVICE_DECLARATIONS.filter((s) => s.portSetting.endsWith('.metrics.port'))
      .map((s) => s.port)
      .sort((a, b) => a - b);
    const prometheus = parse(
      readFileSync(join(ROOT, 'monitoring/prometheus/prometheus.yml'), 'utf8'),
    ) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'grantstream');
    const targets = job?.static_configs.flatMap((s) => s.targets) ?? [];
    expect(ports.length).toBeGreaterThanOrEqual(6);
    expect(targets.map((t) => Number(t.split(':')[1])).sort((a, b) => a - b)).toEqual(ports);
    expect(prometheus.rule_files).toContain('alerts.yaml');
  });
});
