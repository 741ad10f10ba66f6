import {
  FUNDERS_LIVE,
  LIVE_REGION_JS,
  LIVE_REGION_SCRIPT,
  PIPELINE_CHARTS_LIVE,
  fundersLive,
  fundersPage,
  pipelineCharts,
} from '../pages/funders.page';
import { field } from '../pages/format';
import type { FundersView } from '../funders/funders-monitor';
import type { SafeHtml } from './html';
import type { ConsoleDeps, Reply, RequestContext, Route } from './console-server';
import { frameOf, htmlReply, scriptRoute } from './replies';

const unavailable = (): Reply => ({
  status: 503,
  type: 'text/plain; charset=utf-8',
  body: 'the funders page is not running in this console',
});

/** The funder asked for, when it is one the page knows. */
function selectedOf(ctx: RequestContext, view: FundersView): string | null {
  const asked = field(ctx.url.searchParams, 'funder');
  return asked !== undefined && view.funders.some((f) => f.funderId === asked) ? asked : null;
}

/** The funders to chart: the one asked for, else every funder a stage serves figures for. */
function chartedOf(view: FundersView, selected: string | null): string[] {
  return selected !== null
    ? [selected]
    : view.funders.filter((f) => f.figures !== null).map((f) => f.funderId);
}

/** The pipeline page's charts, or nothing when the console keeps no samples. */
export function pipelineChartsOf(deps: ConsoleDeps): SafeHtml | undefined {
  if (!deps.charts) return undefined;
  const stages = deps.pipeline?.latest()?.stages.map((s) => s.stage) ?? deps.charts.stages();
  return pipelineCharts(deps.charts, stages, deps.now(), deps.settings.pipeline.refreshMs);
}

/** The funders page, its live region and JSON, the pipeline page's charts, and the live-region script. */
export function fundersRoutes(): Route[] {
  return [
    scriptRoute(LIVE_REGION_SCRIPT, LIVE_REGION_JS),
    {
      method: 'GET',
      path: '/funders',
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        if (!deps.funders || !deps.charts) return Promise.resolve(unavailable());
        const now = deps.now();
        const view = deps.funders.view(now);
        const selected = selectedOf(ctx, view);
        return Promise.resolve(
          htmlReply(
            fundersPage(
              frameOf(ctx),
              view,
              deps.charts,
              chartedOf(view, selected),
              selected,
              now,
              deps.settings.pipeline.refreshMs,
            ),
          ),
        );
      },
    },
    {
      method: 'GET',
      path: FUNDERS_LIVE,
      access: 'view',
      api: false,
      handle: (ctx, deps) => {
        if (!deps.funders || !deps.charts) return Promise.resolve(unavailable());
        const now = deps.now();
        const view = deps.funders.view(now);
        const charted = chartedOf(view, selectedOf(ctx, view));
        return Promise.resolve(
          htmlReply(
            fundersLive(view, deps.charts, charted, now, deps.settings.pipeline.refreshMs).markup,
          ),
        );
      },
    },
    {
      method: 'GET',
      path: '/api/funders',
      access: 'view',
      api: true,
      handle: (_ctx, deps) =>
        Promise.resolve(
          deps.funders
            ? {
                status: 200,
                type: 'application/json; charset=utf-8',
                body: JSON.stringify(deps.funders.view(deps.now())),
              }
            : unavailable(),
        ),
    },
    {
      method: 'GET',
      path: PIPELINE_CHARTS_LIVE,
      access: 'view',
      api: false,
      handle: (_ctx, deps) => {
        const charts = pipelineChartsOf(deps);
        return Promise.resolve(charts ? htmlReply(charts.markup) : unavailable());
      },
    },
  ];
}
