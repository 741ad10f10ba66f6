import { describe, expect, it } from 'vitest';
import { outOfSync } from './cluster-faults';

describe('outOfSync', () => {
  it('lists the partitions that replicate a node but do not count it in their ISR', () => {
    const m = {
      brokers: [1, 2, 3],
      partitions: [
        { topic: 'a', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 3] },
        { topic: 'a', partition: 1, leader: 3, replicas: [3, 1, 2], isr: [3, 1, 2] },
        { topic: 'b', partition: 0, leader: 1, replicas: [1, 3], isr: [1] },
      ],
    };
    expect(outOfSync(m, 2)).toEqual(['a[0]']);
    expect(outOfSync(m, 3)).toEqual(['b[0]']);
    expect(outOfSync(m, 1)).toEqual([]);
  });
});
