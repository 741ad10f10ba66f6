import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { RunnerEventSource } from './stage-metrics';
import { StageHealth } from './stage-health';

function runnerEvents(): EventEmitter & RunnerEventSource {
  return new EventEmitter() as EventEmitter & RunnerEventSource;
}

describe('StageHealth', () => {
  it('is ready only once the consumer joined and every dependency answers', async () => {
    let brokerUp = true;
    const health = new StageHealth({
      timeoutMs: 50,
      checks: {
        broker: () => Promise.resolve(brokerUp),
        registry: () => Promise.resolve(true),
      },
    });
    const source = runnerEvents();
    health.observe(source);
    expect(await health.readiness()).toEqual({
      ready: false,
      checks: { consumerGroup: false, broker: true, registry: true },
    });
    source.emit('groupJoined', { generation: 1, assignment: {} });
    expect((await health.readiness()).ready).toBe(true);
    brokerUp = false;
    expect(await health.readiness()).toEqual({
      ready: false,
      checks: { consumerGroup: true, broker: false, registry: true },
    });
    brokerUp = true;
    source.emit('crashed', { error: new Error('x'), restarting: true });
    expect((await health.readiness()).checks['consumerGroup']).toBe(false);
  });

  it('counts a check that hangs or throws as failed, within the timeout', async () => {
    const health = new StageHealth({
      timeoutMs: 30,
      checks: {
        hangs: () => new Promise<boolean>(() => undefined),
        throws: () => Promise.reject(new Error('refused')),
      },
    });
    const started = Date.now();
    const report = await health.readiness();
    expect(report.checks).toEqual({ consumerGroup: false, hangs: false, throws: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
