import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { serverProperties } from './kafka-files';

interface Service {
  image: string;
  environment: Record<string, string>;
}
const compose = parse(readFileSync(resolve(__dirname, '../../../docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const config = loadGrantstreamConfig({});
const kafka = compose.services['kafka'];
const registry = compose.services['registry'];

// Settings that legitimately differ in containers: addresses and paths.
const PER_ENVIRONMENT = new Set([
  'listeners',
  'advertised.listeners',
  'listener.security.protocol.map',
  'inter.broker.listener.name',
  'controller.quorum.voters',
  'log.dirs',
]);

describe('docker-compose.yml stays consistent with the local stack', () => {
  it('runs the same Kafka and registry versions', () => {
    expect(kafka?.image).toBe(`apache/kafka:${config.stack.kafka.version}`);
    expect(registry?.image).toBe(`apicurio/apicurio-registry:${config.stack.registry.version}`);
  });

  it('gives the broker every setting the local stack gives it', () => {
    const props = serverProperties(config, '/unused')
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]);
    for (const [key, value] of props) {
      if (PER_ENVIRONMENT.has(key)) continue;
      const env = `KAFKA_${key.toUpperCase().replace(/\./g, '_')}`;
      expect(kafka?.environment[env], env).toBe(value);
    }
    expect(kafka?.environment['KAFKA_CLUSTER_ID']).toBe(config.stack.kafka.clusterId);
  });

  it('sets the registry default compatibility and durable storage as the local stack does', () => {
    expect(registry?.environment['APICURIO_RULES_GLOBAL_COMPATIBILITY']).toBe(
      config.stack.registry.compatibility,
    );
    expect(registry?.environment['APICURIO_STORAGE_KIND']).toBe('sql');
  });
});
