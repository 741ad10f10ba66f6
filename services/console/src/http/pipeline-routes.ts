import type { ServerResponse } from 'node:http';
import {
  PIPELINE_FEED,
  PIPELINE_JS,
  PIPELINE_SCRIPT,
  pipelineEvent,
  pipelinePage,
} from '../pages/pipeline.page';
import type { PipelineSnapshot } from '../pipeline/pipeline-monitor';
import type { ConsoleDeps, RequestContext, Route } from './console-server';
import { pipelineChartsOf } from './funders-routes';
import { frameOf, scriptRoute } from './replies';

/**
 * The live feed: one `pipeline` event now and one at every refresh, while
 * the session lasts. `retry` tells the browser to reconnect after one
 * refresh when the feed breaks.
 */
function streamPipeline(ctx: RequestContext, deps: ConsoleDeps, res: ServerResponse): void {
  const monitor = deps.pipeline;
  const sessionId = ctx.session?.id;
  const send = (s: PipelineSnapshot): void => {
    if (deps.sessions.get(sessionId) === null) {
      res.end();
      return;
    }
    res.write(`event: pipeline\ndata: ${JSON.stringify(pipelineEvent(s))}\n\n`);
  };
  res.write(`retry: ${deps.settings.pipeline.refreshMs}\n\n`);
  if (!monitor) {
    res.end();
    return;
  }
  const latest = monitor.latest();
  if (latest) send(latest);
  const unsubscribe = monitor.subscribe(send);
  res.on('close', unsubscribe);
}

/** The pipeline page, its JSON, its live feed and its script. */
export function pipelineRoutes(): Route[] {
  return [
    scriptRoute(PIPELINE_SCRIPT, PIPELINE_JS),
    {
      method: 'GET',
      path: '/pipeline',
      access: 'view',
      api: false,
      handle: (ctx, deps) =>
        Promise.resolve({
          status: 200,
          type: 'text/html; charset=utf-8',
          body: pipelinePage(
            frameOf(ctx),
            deps.pipeline?.latest() ?? null,
            deps.settings.pipeline.refreshMs,
            pipelineChartsOf(deps),
          ),
        }),
    },
    {
      method: 'GET',
      path: '/api/pipeline',
      access: 'view',
      api: true,
      handle: (_ctx, deps) =>
        Promise.resolve({
          status: 200,
          type: 'application/json; charset=utf-8',
          body: JSON.stringify(deps.pipeline?.latest() ?? null),
        }),
    },
    {
      method: 'GET',
      path: PIPELINE_FEED,
      access: 'view',
      api: true,
      // Only reached without the event-stream support of the server.
      handle: () => Promise.resolve({ status: 406, type: 'text/plain', body: 'event stream only' }),
      stream: streamPipeline,
    },
  ];
}
