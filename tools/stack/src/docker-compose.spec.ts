import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadGrantstreamConfig } from '@grantstream/config';
import { serverProperties } from './kafka-files';
import { REDIS_NO_PERSISTENCE, redisServerArgs } from './redis-files';

interface Service {
  image: string;
  environment: Record<string, string>;
  ports?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync(resolve(__dirname, '../../../docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const config = loadGrantstreamConfig({});
const kafka = compose.services['kafka'];
const registry = compose.services['registry'];
const redis = compose.services['redis'];

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

  it('runs the Redis minor version the local stack fetches, on the port clients are configured with', () => {
    const [major, minor] = config.stack.redis.version.split('.');
    expect(redis?.image).toBe(`redis:${major}.${minor}`);
    expect(redis?.ports).toEqual([`127.0.0.1:${config.stack.redis.port}:6379`]);
    expect(config.redis).toEqual({ host: config.stack.host, port: config.stack.redis.port });
  });

  it('keeps nothing of Redis on disk, as the local stack does, and is healthy only when PING answers', () => {
    const local = redisServerArgs(config, '/unused', 'marker');
    const persistence = [...REDIS_NO_PERSISTENCE];
    expect(local.join('\u0000')).toContain(persistence.join('\u0000'));
    expect(redis?.command).toEqual(['redis-server', ...persistence]);
    expect(redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });
});
