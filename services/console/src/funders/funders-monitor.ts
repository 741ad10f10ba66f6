import type { GrantLogger } from '@grantstream/logging';
import type { RulePackSet } from '@grantstream/rules';
import type { FunderStateCount, GrantSummary, ReadModelStore } from '@grantstream/read-model';
import type { ChartHistory } from '../charts/chart-history';
import {
  deadlineRisk,
  riskWindowEnd,
  type DeadlineRisk,
  type FunderCalendar,
} from '../domain/deadline-risk';
import {
  funderFigures,
  retryTierBacklog,
  type FunderCounters,
  type FunderFigures,
  type TierBacklog,
} from '../domain/funder-figures';
import type { PipelineScrape } from '../pipeline/pipeline-monitor';

/** A funder's calendar and where it came from (its rule pack, or the console's default). */
export interface KnownCalendar extends FunderCalendar {
  fromPack: boolean;
}

/** One funder's row: its figures from the stages, its grants by state, how many are at risk. */
export interface FunderRow {
  funderId: string;
  /** Null when no stage serves figures for it (no submission replica has its portal). */
  figures: FunderFigures | null;
  calendar: KnownCalendar;
  states: { state: string; grants: number }[];
  grants: number;
  atRisk: number;
}

/** A grant the portal has not received whose deadline is near or passed, in its funder's calendar. */
export interface GrantAtRisk {
  grant: GrantSummary;
  funderId: string;
  timeZone: string;
  risk: DeadlineRisk;
}

/** What the funders page shows. */
export interface FundersView {
  /** When the stages were last asked; null before the first answer. */
  scrapedAt: number | null;
  funders: FunderRow[];
  tiers: TierBacklog[];
  /** Every state any funder's grants are in, for the table's columns. */
  states: string[];
  /** Soonest deadline first. */
  atRisk: GrantAtRisk[];
}

/** What the monitor reads and how it judges deadlines. */
export interface FundersMonitorOptions {
  store: Pick<ReadModelStore, 'funderStateCounts' | 'unfiledByDeadline'>;
  /** Each funder's calendar from its rule pack. */
  calendars: ReadonlyMap<string, FunderCalendar>;
  /** For a funder without a pack: UTC, weekends only, the configured buffer. */
  defaultCalendar: FunderCalendar;
  /** Topics whose lag is a retry tier's backlog. */
  retryTopicPattern: RegExp;
  /** Unfiled grants whose deadline passed at most this long ago are still listed. */
  passedDeadlineWindowMs: number;
  /** Grants at risk per funder at most. */
  maxAtRisk: number;
  history: ChartHistory;
  logger: GrantLogger;
}

/**
 * The funders page's source: every scrape of the stages gives each funder's
 * limiter, circuit and portal figures and the retry tiers' backlog, and
 * (once per chart interval) a chart sample with the grants by state from the
 * read model. Deadlines are judged when a page is asked for, against the
 * read model as it is then.
 */
export class FundersMonitor {
  private counters: FunderCounters | null = null;
  private latest: { at: number; funders: FunderFigures[]; tiers: TierBacklog[] } | null = null;

  constructor(private readonly options: FundersMonitorOptions) {}

  /** Takes one scrape of the stages (subscribed to the pipeline monitor). */
  observe(scrape: PipelineScrape): void {
    const at = scrape.snapshot.at;
    const { funders, counters } = funderFigures(scrape.samples, this.counters, at);
    this.counters = counters;
    const tiers = retryTierBacklog(
      scrape.snapshot.stages.flatMap((s) => s.lag),
      this.options.retryTopicPattern,
    );
    this.latest = { at, funders, tiers };
    const history = this.options.history;
    if (!history.due(at)) return;
    let states: FunderStateCount[] = [];
    try {
      states = this.options.store.funderStateCounts();
    } catch (err) {
      this.options.logger.warn({ err }, 'grants by state not read for the charts');
    }
    history.record({
      at,
      stages: scrape.snapshot.stages.map((s) => ({
        stage: s.stage,
        lag: s.lag.length === 0 ? null : s.lag.reduce((n, t) => n + t.lag, 0),
        in: s.inPerSecond,
        out: s.outPerSecond,
      })),
      funders: funders.map((f) => ({
        funderId: f.funderId,
        callsPerSecond: f.callsPerSecond,
        limit: f.ratePerSecond,
      })),
      states,
    });
  }

  /** A funder's calendar: its pack's, or the default. */
  calendarOf(funderId: string): KnownCalendar {
    const pack = this.options.calendars.get(funderId);
    return pack
      ? { ...pack, fromPack: true }
      : { ...this.options.defaultCalendar, fromPack: false };
  }

  /** Everything the funders page shows, now. */
  view(now: number): FundersView {
    const counts = this.options.store.funderStateCounts();
    const figures = new Map((this.latest?.funders ?? []).map((f) => [f.funderId, f]));
    const ids = new Set<string>([...this.options.calendars.keys(), ...figures.keys()]);
    for (const c of counts) if (c.funderId !== null) ids.add(c.funderId);
    const atRisk: GrantAtRisk[] = [];
    const funders = [...ids].sort().map((funderId): FunderRow => {
      const calendar = this.calendarOf(funderId);
      const mine = this.atRiskOf(funderId, calendar, now);
      atRisk.push(...mine);
      const states = counts
        .filter((c) => c.funderId === funderId)
        .map((c) => ({ state: c.state ?? 'unknown', grants: c.grants }));
      return {
        funderId,
        figures: figures.get(funderId) ?? null,
        calendar,
        states,
        grants: states.reduce((n, s) => n + s.grants, 0),
        atRisk: mine.length,
      };
    });
    atRisk.sort(
      (a, b) =>
        (a.grant.deadline ?? 0) - (b.grant.deadline ?? 0) ||
        a.grant.grantId.localeCompare(b.grant.grantId),
    );
    return {
      scrapedAt: this.latest?.at ?? null,
      funders,
      tiers: this.latest?.tiers ?? [],
      states: [...new Set(counts.map((c) => c.state ?? 'unknown'))].sort(),
      atRisk,
    };
  }

  private atRiskOf(funderId: string, calendar: FunderCalendar, now: number): GrantAtRisk[] {
    const candidates = this.options.store.unfiledByDeadline(
      funderId,
      now - this.options.passedDeadlineWindowMs,
      riskWindowEnd(now, calendar),
      this.options.maxAtRisk,
    );
    return candidates.flatMap((grant) => {
      if (grant.deadline === null) return [];
      const risk = deadlineRisk(grant.deadline, now, calendar);
      return risk.atRisk ? [{ grant, funderId, timeZone: calendar.timeZone, risk }] : [];
    });
  }
}

/** Each funder's calendar from its rule pack: time zone, holidays, the business days it needs. */
export function funderCalendars(packs: RulePackSet): Map<string, FunderCalendar> {
  const calendars = new Map<string, FunderCalendar>();
  for (const id of packs.funderIds) {
    const p = packs.get(id);
    if (!p) continue;
    calendars.set(id, {
      timeZone: p.time_zone,
      holidays: p.deadline.holidays,
      bufferBusinessDays: p.deadline.buffer_business_days,
    });
  }
  return calendars;
}
