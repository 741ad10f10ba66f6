import { describe, expect, it } from 'vitest';
import { WebhookSinks } from './webhook-sink';

describe('WebhookSinks', () => {
  it('stores each keyed delivery once, refuses while down, and counts attempts', () => {
    const sinks = new WebhookSinks();
    expect(sinks.deliver('officer', 'a', '{"n":1}').status).toBe(201);
    expect(sinks.deliver('officer', 'a', '{"n":1}').status).toBe(200);
    sinks.setDown('officer', true);
    expect(sinks.deliver('officer', 'b', '{"n":2}').status).toBe(503);
    sinks.setDown('officer', false);
    expect(sinks.deliver('officer', 'b', '{"n":2}').status).toBe(201);
    expect(sinks.deliver('officer', undefined, '{"n":3}').status).toBe(201);
    expect(sinks.deliver('officer', undefined, 'not json').status).toBe(400);
    expect(sinks.view('officer')).toEqual({
      received: [{ n: 1 }, { n: 2 }, { n: 3 }],
      attempts: 6,
      duplicates: 1,
      down: false,
    });
    expect(sinks.summary()).toEqual({
      officer: { received: 3, attempts: 6, duplicates: 1, down: false },
    });
  });

  it('keeps receivers apart and shows an unused one as empty', () => {
    const sinks = new WebhookSinks();
    sinks.deliver('a', 'k', '{}');
    expect(sinks.deliver('b', 'k', '{}').status).toBe(201);
    expect(sinks.view('never')).toEqual({ received: [], attempts: 0, duplicates: 0, down: false });
  });
});
