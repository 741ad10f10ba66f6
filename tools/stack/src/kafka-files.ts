import { kafkaNodes, type KafkaNodeSpec } from '@grantstream/config';
import type { GrantstreamConfig as StackConfig } from '@grantstream/config';

/** The listener a fault proxy relays to (see `stack.kafka.faultProxy`). */
export const FAULT_LISTENER = 'FAULTS';

/**
 * server.properties of one KRaft node of the local stack (combined broker and
 * controller). Every node knows every voter: the quorum is static, so the
 * storage is formatted without `--standalone`. The internal topics'
 * replication comes from `stack.kafka.replication`: 1 on a single node (with
 * more, the transaction coordinator never becomes available and every
 * transactional producer hangs), production's 3 and min ISR 2 on the cluster.
 * `node` defaults to the first (on a single-node stack, the only) node.
 */
export function serverProperties(
  config: StackConfig,
  dataDir: string,
  node: KafkaNodeSpec = firstNode(config),
): string {
  const { host } = config.stack;
  const k = config.stack.kafka;
  const { factor, minInsync } = k.replication;
  const listeners = [
    `PLAINTEXT://${host}:${node.port}`,
    `CONTROLLER://${host}:${node.controllerPort}`,
  ];
  const advertised = [`PLAINTEXT://${host}:${node.port}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  if (node.faultProxy) {
    // Metadata answers with the addresses of the listener a client connected
    // to: clients that came through a proxy keep going through the proxies.
    listeners.push(`${FAULT_LISTENER}://${host}:${node.faultProxy.listenerPort}`);
    advertised.push(`${FAULT_LISTENER}://${host}:${node.faultProxy.port}`);
    protocols.push(`${FAULT_LISTENER}:PLAINTEXT`);
  }
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': kafkaNodes(config.stack)
      .map((n) => `${n.id}@${host}:${n.controllerPort}`)
      .join(','),
    'controller.listener.names': 'CONTROLLER',
    listeners: listeners.join(','),
    'advertised.listeners': advertised.join(','),
    'listener.security.protocol.map': protocols.join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'offsets.topic.replication.factor': factor,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': factor,
    'transaction.state.log.min.isr': minInsync,
    'transaction.state.log.num.partitions': 10,
    'transaction.max.timeout.ms': k.transactionMaxTimeoutMs,
    'share.coordinator.state.topic.replication.factor': factor,
    'share.coordinator.state.topic.min.isr': minInsync,
    'min.insync.replicas': minInsync,
    'default.replication.factor': factor,
    // Consumers join at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms': 0,
    // Topics are code (schemas/topics.yaml): a typo must fail, not create a topic.
    'auto.create.topics.enable': false,
  };
  if (k.cleanerDedupeBufferMb !== null)
    props['log.cleaner.dedupe.buffer.size'] = k.cleanerDedupeBufferMb * 1024 * 1024;
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n')}\n`;
}

function firstNode(config: StackConfig): KafkaNodeSpec {
  const [first] = kafkaNodes(config.stack);
  if (!first) throw new Error('stack.kafka.nodes is at least 1');
  return first;
}

/** log4j2 configuration: INFO to the broker's log file (stdout is redirected there). */
export const LOG4J2_YAML = `Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: INFO
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
`;
