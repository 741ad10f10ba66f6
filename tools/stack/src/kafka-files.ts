import type { GrantstreamConfig as StackConfig } from '@grantstream/config';

/**
 * server.properties of the single-node KRaft broker. The replication and ISR
 * settings of the internal topics are 1 because there is one node: without
 * them the transaction coordinator never becomes available and every
 * transactional producer hangs.
 */
export function serverProperties(config: StackConfig, dataDir: string): string {
  const { host } = config.stack;
  const k = config.stack.kafka;
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${host}:${k.controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    listeners: `PLAINTEXT://${host}:${k.port},CONTROLLER://${host}:${k.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${k.port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'transaction.max.timeout.ms': k.transactionMaxTimeoutMs,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'min.insync.replicas': 1,
    'default.replication.factor': 1,
    // Consumers join at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms': 0,
    // Topics are code (schemas/topics.yaml): a typo must fail, not create a topic.
    'auto.create.topics.enable': false,
  };
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n')}\n`;
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
