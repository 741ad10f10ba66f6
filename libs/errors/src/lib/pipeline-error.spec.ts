import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  InfrastructureError,
  UnknownSchemaIdError,
  WireFormatError,
  impactOf,
  isPipelineError,
} from '../index';

describe('PipelineError hierarchy', () => {
  it.each([
    [new WireFormatError('bad magic'), 'SCHEMA_WIRE_FORMAT', 'SCHEMA_VIOLATION', false, 'HIGH'],
    [new UnknownSchemaIdError('id 7'), 'SCHEMA_UNKNOWN_ID', 'SCHEMA_VIOLATION', false, 'HIGH'],
    [
      new InfrastructureError('down'),
      'INFRASTRUCTURE_UNAVAILABLE',
      'INFRASTRUCTURE',
      true,
      'MEDIUM',
    ],
    [new ConfigError(['a: x']), 'CONFIG_INVALID', 'CONFIGURATION', false, 'MEDIUM'],
  ])(
    '%s carries code, category, retriable and impact',
    (err, code, category, retriable, impact) => {
      expect(isPipelineError(err)).toBe(true);
      expect(err.code).toBe(code);
      expect(err.category).toBe(category);
      expect(err.retriable).toBe(retriable);
      expect(err.impact).toBe(impact);
      expect(err.name).toBe(err.constructor.name);
    },
  );

  it('serialises its cause chain to JSON', () => {
    const root = new Error('socket hang up');
    const err = new InfrastructureError('registry unreachable', {
      cause: root,
      metadata: { url: 'u' },
    });
    expect(err.toJSON()).toMatchObject({
      code: 'INFRASTRUCTURE_UNAVAILABLE',
      metadata: { url: 'u' },
      cause: { name: 'Error', message: 'socket hang up' },
    });
  });

  it('lists every config problem in its message', () => {
    const err = new ConfigError([
      'f.yaml: kafka.brokers: required',
      'f.yaml: stack.kafka.port: too big',
    ]);
    expect(err.message).toContain('2 problem(s)');
    expect(err.message).toContain('kafka.brokers: required');
    expect(err.message).toContain('stack.kafka.port: too big');
  });

  it('rates schema and compliance failures HIGH, others MEDIUM', () => {
    expect(impactOf('COMPLIANCE_BLOCK')).toBe('HIGH');
    expect(impactOf('API_RATE_LIMIT')).toBe('MEDIUM');
  });
});
