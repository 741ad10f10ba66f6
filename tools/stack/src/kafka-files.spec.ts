import { describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { serverProperties } from './kafka-files';
import { marker } from './processes';

const config = loadGrantstreamConfig({
  GRANTSTREAM__STACK__KAFKA__PORT: '19092',
  GRANTSTREAM__STACK__KAFKA__CONTROLLER_PORT: '19093',
});

function props(text: string): Map<string, string> {
  return new Map(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

describe('serverProperties', () => {
  const p = props(serverProperties(config, '/data'));

  it('runs one combined broker+controller on the configured loopback ports', () => {
    expect(p.get('process.roles')).toBe('broker,controller');
    expect(p.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(p.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(p.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(p.get('log.dirs')).toBe('/data');
  });

  it('sets the single-node settings transactions and fast group joins need', () => {
    expect(p.get('transaction.state.log.replication.factor')).toBe('1');
    expect(p.get('transaction.state.log.min.isr')).toBe('1');
    expect(p.get('offsets.topic.replication.factor')).toBe('1');
    expect(p.get('group.initial.rebalance.delay.ms')).toBe('0');
    expect(p.get('auto.create.topics.enable')).toBe('false');
  });
});

describe('process marker', () => {
  it('names the state folder and the component, so two stacks never match each other', () => {
    expect(marker('/s/a', 'kafka')).toBe('-Dgrantstream.stack=/s/a#kafka');
    expect(marker('/s/a', 'kafka')).not.toBe(marker('/s/ab', 'kafka'));
  });
});
