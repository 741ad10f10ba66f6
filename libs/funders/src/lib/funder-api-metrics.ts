import { Histogram, type Registry } from 'prom-client';

/** One HTTP exchange with a funder portal, as the REST adapter reports it. */
export interface PortalCall {
  funderId: string;
  operation: 'submit' | 'status' | 'lookup';
  /** The HTTP status code, or `timeout` / `network` when no answer came. */
  status: string;
  durationMs: number;
}

/** Told about every portal exchange; see {@link RestFunderAdapterDeps.onCall}. */
export type PortalCallObserver = (call: PortalCall) => void;

/** Seconds, from 5 ms to a minute: portal answers, and the longest timeouts. */
const PORTAL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Funder API latency and status codes: one histogram,
 * `grantstream_funder_api_request_seconds{funder,operation,status}`, whose
 * `_count` series are the calls per status code. Registered once the stage's
 * registry exists, since the portals are built before it.
 */
export class FunderApiMetrics {
  private readonly requests = new Histogram<'funder' | 'operation' | 'status'>({
    name: 'grantstream_funder_api_request_seconds',
    help: 'Funder portal calls by funder, operation (submit, status, lookup) and HTTP status (or timeout, network): latency, and per status the count.',
    labelNames: ['funder', 'operation', 'status'],
    buckets: PORTAL_BUCKETS,
    registers: [],
  });

  /** The observer to hand to every adapter. */
  readonly observe: PortalCallObserver = (call) =>
    this.requests.observe(
      { funder: call.funderId, operation: call.operation, status: call.status },
      call.durationMs / 1000,
    );

  registerOn(registry: Registry): void {
    registry.registerMetric(this.requests);
  }
}
