import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('stamps service and version and uses level labels', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'ingest', version: '1.2.3', destination }).info('hello');
    expect(lines[0]).toMatchObject({
      service: 'ingest',
      version: '1.2.3',
      level: 'info',
      msg: 'hello',
    });
  });

  it('redacts secrets and payloads wherever our code logs them', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 't', destination });
    log.info(
      {
        funder: { baseUrl: 'https://portal', token: 's3cr3t-token' },
        headers: { authorization: 'Bearer abc' },
        message: { topic: 'grants.ingest.v1', payload: { ssn: '123' } },
        password: 'pw',
      },
      'calling portal',
    );
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain('s3cr3t-token');
    expect(text).not.toContain('Bearer abc');
    expect(text).not.toContain('123');
    expect(text).not.toContain('"pw"');
    expect(text).toContain('https://portal');
    expect(text).toContain('grants.ingest.v1');
  });

  it('child loggers carry their bindings', () => {
    const { lines, destination } = capture();
    createLogger({ service: 't', destination }).child({ topic: 'x', partition: 2 }).warn('w');
    expect(lines[0]).toMatchObject({ topic: 'x', partition: 2, level: 'warn' });
  });
});
