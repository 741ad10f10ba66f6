/** What `GET /__sim/hooks/{name}` shows. */
export interface HookView {
  /** Stored bodies, in arrival order, each once. */
  received: unknown[];
  /** Every POST, refused and duplicate ones included. */
  attempts: number;
  /** POSTs whose Idempotency-Key was already stored. */
  duplicates: number;
  down: boolean;
}

/** The answer to a notification delivery. */
export interface HookAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface Hook extends HookView {
  keys: Set<string>;
}

/**
 * Named webhook receivers that stand in for the notification endpoints
 * (compliance officer, applicant). Deliveries carrying an already stored
 * Idempotency-Key are acknowledged but not stored again, as a well-behaved
 * receiver would do with an at-least-once sender.
 */
export class WebhookSinks {
  private readonly hooks = new Map<string, Hook>();

  /** A delivery of `text` to `name`. */
  deliver(name: string, idempotencyKey: string | undefined, text: string): HookAnswer {
    const hook = this.hook(name);
    hook.attempts += 1;
    if (hook.down) return { status: 503, body: { error: 'webhook receiver is down' } };
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      return { status: 400, body: { error: 'request body is not valid JSON' } };
    }
    if (idempotencyKey && hook.keys.has(idempotencyKey)) {
      hook.duplicates += 1;
      return { status: 200, body: { stored: false, duplicate: true } };
    }
    if (idempotencyKey) hook.keys.add(idempotencyKey);
    hook.received.push(body);
    return { status: 201, body: { stored: true } };
  }

  /** Takes the receiver down (503 to every delivery) or brings it back. */
  setDown(name: string, down: boolean): HookView {
    const hook = this.hook(name);
    hook.down = down;
    return this.view(name);
  }

  /** The receiver's state; a name never used reads as empty and up. */
  view(name: string): HookView {
    const hook = this.hooks.get(name);
    return hook
      ? {
          received: [...hook.received],
          attempts: hook.attempts,
          duplicates: hook.duplicates,
          down: hook.down,
        }
      : { received: [], attempts: 0, duplicates: 0, down: false };
  }

  /** Every receiver's counters, without the bodies. */
  summary(): Record<string, Omit<HookView, 'received'> & { received: number }> {
    return Object.fromEntries(
      [...this.hooks].map(([name, h]) => [
        name,
        {
          received: h.received.length,
          attempts: h.attempts,
          duplicates: h.duplicates,
          down: h.down,
        },
      ]),
    );
  }

  private hook(name: string): Hook {
    let hook = this.hooks.get(name);
    if (!hook) {
      hook = { received: [], attempts: 0, duplicates: 0, down: false, keys: new Set() };
      this.hooks.set(name, hook);
    }
    return hook;
  }
}
