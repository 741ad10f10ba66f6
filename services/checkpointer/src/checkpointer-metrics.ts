import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Checkpointer } from './checkpointer';

/**
 * The checkpointer's Prometheus metrics: whether this replica is active, the
 * tree size, leaves and checkpoints written, records that made no leaf, and
 * session failures. A tree size that stops growing while the audit topic's
 * end moves is the alert: nothing vouches for the newest events.
 */
export class CheckpointerMetrics {
  readonly registry = new Registry();
  private readonly active = new Gauge({
    name: 'grantstream_checkpointer_active',
    help: '1 while this replica holds the lease and writes the log',
    registers: [this.registry],
  });
  private readonly treeSize = new Gauge({
    name: 'grantstream_checkpointer_tree_size',
    help: 'Leaves in the audit Merkle log, as this replica last committed it',
    registers: [this.registry],
  });
  private readonly checkpointSize = new Gauge({
    name: 'grantstream_checkpointer_checkpoint_size',
    help: 'Tree size of the last checkpoint this replica signed',
    registers: [this.registry],
  });
  private readonly leaves = new Counter({
    name: 'grantstream_checkpointer_leaves_total',
    help: 'Leaves appended and committed by this replica',
    registers: [this.registry],
  });
  private readonly checkpoints = new Counter({
    name: 'grantstream_checkpointer_checkpoints_total',
    help: 'Checkpoints signed and published by this replica',
    registers: [this.registry],
  });
  private readonly skipped = new Counter({
    name: 'grantstream_checkpointer_skipped_records_total',
    help: 'Audit records that made no leaf (tombstones, undecodable values)',
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: 'grantstream_checkpointer_session_failures_total',
    help: 'Active sessions that failed and started over (or stopped, when final)',
    labelNames: ['final'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Follows the checkpointer's events. */
  observe(checkpointer: Checkpointer): void {
    checkpointer.on('resumed', ({ size }) => {
      this.active.set(1);
      this.treeSize.set(size);
    });
    checkpointer.on('committed', ({ leaves, size, checkpoint }) => {
      this.leaves.inc(leaves);
      this.treeSize.set(size);
      if (checkpoint !== undefined) {
        this.checkpoints.inc();
        this.checkpointSize.set(checkpoint);
      }
    });
    checkpointer.on('skipped', () => this.skipped.inc());
    checkpointer.on('failed', ({ final }) => {
      this.active.set(0);
      this.failures.inc({ final: String(final) });
    });
  }
}
