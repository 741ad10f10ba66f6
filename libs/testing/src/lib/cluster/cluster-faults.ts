import { execFileSync } from 'node:child_process';
import {
  kafkaNodes,
  stackProcessMarker,
  type GrantstreamConfig,
  type KafkaNodeSpec,
} from '@grantstream/config';
import { ClusterFaultError } from '@grantstream/errors';
import { ENTRY, runTs } from '../cli';
import { KafkaProbe, type ClusterMetadata } from './kafka-probe';

/** A node chosen by what it does at the moment of the fault. */
export type NodeRole =
  | { role: 'partitionLeader'; topic: string; partition: number }
  | { role: 'groupCoordinator'; groupId: string }
  | { role: 'transactionCoordinator'; transactionalId: string }
  | { role: 'activeController' }
  | { role: 'node'; id: number };

/**
 * How a node is stopped: `SIGKILL` is a crash (kill -9: no controlled
 * shutdown, leadership moves once the controller fences the node), `SIGTERM`
 * a clean shutdown (leadership handed over first), `SIGSTOP` a freeze (the
 * process holds its sockets and answers nothing until SIGCONT).
 */
export type NodeFault = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP';

/** What one bounce did, for a scenario's log. */
export interface BounceRecord {
  node: number;
  role: NodeRole['role'];
  fault: NodeFault;
  /** From the signal until the node was back in every ISR. */
  outageMs: number;
}

/**
 * Faults of the local stack's cluster mode, node by node: find the node that
 * holds a role, signal its process, and bring it back with the stack's own
 * `up` (which starts only the missing node, on the same ports), then wait
 * until it is back in the ISR of every partition it replicates.
 */
export class ClusterFaults {
  readonly probe: KafkaProbe;
  private readonly nodes: KafkaNodeSpec[];
  private readonly f: GrantstreamConfig['stack']['faults'];

  /**
   * @param config the cluster's configuration (config/cluster.yaml merged)
   * @param stackEnv the environment the stack command needs to act on that cluster
   */
  constructor(
    private readonly config: GrantstreamConfig,
    private readonly stackEnv: NodeJS.ProcessEnv,
  ) {
    this.nodes = kafkaNodes(config.stack);
    this.f = config.stack.faults;
    this.probe = new KafkaProbe({
      addresses: this.nodes.map((n) => `${config.stack.host}:${n.port}`),
      requestTimeoutMs: this.f.requestTimeoutMs,
      maxFrameBytes: this.f.maxFrameBytes,
      clientId: 'grantstream-faults',
    });
  }

  /** Node ids of the cluster. */
  get nodeIds(): number[] {
    return this.nodes.map((n) => n.id);
  }

  /** The node holding `role` now, asked again until the cluster names one. */
  find(role: NodeRole): Promise<number> {
    return this.until(`the ${role.role}`, this.f.roleTimeoutMs, async () => {
      switch (role.role) {
        case 'node':
          return role.id;
        case 'partitionLeader':
          return this.probe.leaderOf(role.topic, role.partition);
        case 'groupCoordinator':
          return this.probe.groupCoordinator(role.groupId);
        case 'transactionCoordinator':
          return this.probe.transactionCoordinator(role.transactionalId);
        case 'activeController':
          return this.probe.activeController();
      }
    });
  }

  /** The pid of a node's process, or null when it is not running. */
  pidOf(nodeId: number): number | null {
    const node = this.node(nodeId);
    const needle = stackProcessMarker(this.config.stack.stateDir, node.component);
    const out = execFileSync('ps', ['-ww', '-eo', 'pid=,args='], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const m = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (m?.[1] && m[2]?.split(/\s+/).includes(needle)) return Number(m[1]);
    }
    return null;
  }

  /**
   * Signals a node. For SIGKILL and SIGTERM, resolves once its process is
   * gone; for SIGSTOP, at once (the process stays, frozen).
   */
  async signal(nodeId: number, fault: NodeFault): Promise<void> {
    const pid = this.pidOf(nodeId);
    if (pid === null) throw new ClusterFaultError(`node ${nodeId} is not running`);
    process.kill(pid, fault);
    if (fault === 'SIGSTOP') return;
    await this.until(`node ${nodeId} to exit`, this.f.exitTimeoutMs, () =>
      Promise.resolve(this.pidOf(nodeId) === null ? true : null),
    );
  }

  /** Wakes a frozen node. */
  thaw(nodeId: number): void {
    const pid = this.pidOf(nodeId);
    if (pid === null) throw new ClusterFaultError(`node ${nodeId} is not running`);
    process.kill(pid, 'SIGCONT');
  }

  /** Starts every stopped node again with `stack up`, then waits until `nodeId` is back in every ISR. */
  async restart(nodeId: number): Promise<void> {
    const up = await runTs(ENTRY.stack, ['up'], {
      env: this.stackEnv,
      timeoutMs: this.config.stack.readyTimeoutMs,
    });
    if (up.code !== 0)
      throw new ClusterFaultError(`stack up exited ${up.code}: ${up.stderr.slice(-2000)}`);
    await this.waitInSync(nodeId);
  }

  /**
   * Waits until `nodeId` is a live broker and in the ISR of every partition
   * that lists it as a replica: only then may the next node go down without
   * a partition falling under min.insync.replicas.
   */
  async waitInSync(nodeId: number): Promise<void> {
    await this.until(`node ${nodeId} back in every ISR`, this.f.rejoinTimeoutMs, async () => {
      const m = await this.probe.metadata(null);
      return outOfSync(m, nodeId).length === 0 && m.brokers.includes(nodeId) ? true : null;
    });
  }

  /** Stops the node holding `role` with `fault`, restarts it (thaws it for SIGSTOP) and waits until it is in sync. */
  async bounce(role: NodeRole, fault: NodeFault): Promise<BounceRecord> {
    const node = await this.find(role);
    const started = Date.now();
    await this.signal(node, fault);
    if (fault === 'SIGSTOP') {
      this.thaw(node);
      await this.waitInSync(node);
    } else await this.restart(node);
    return { node, role: role.role, fault, outageMs: Date.now() - started };
  }

  private node(id: number): KafkaNodeSpec {
    const node = this.nodes.find((n) => n.id === id);
    if (!node) throw new ClusterFaultError(`no node ${id} in this cluster`);
    return node;
  }

  /** Polls `check` until it returns a value other than null, or throws after `timeoutMs`. */
  private async until<T>(
    what: string,
    timeoutMs: number,
    check: () => Promise<T | null>,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last = 'not yet';
    for (;;) {
      try {
        const v = await check();
        if (v !== null) return v;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new ClusterFaultError(`waited ${timeoutMs} ms for ${what}: ${last}`);
      await new Promise((r) => setTimeout(r, this.f.pollMs));
    }
  }
}

/** Partitions that list `nodeId` as a replica but not in their ISR. */
export function outOfSync(metadata: ClusterMetadata, nodeId: number): string[] {
  return metadata.partitions
    .filter((p) => p.replicas.includes(nodeId) && !p.isr.includes(nodeId))
    .map((p) => `${p.topic}[${p.partition}]`);
}
