import { loadGrantstreamConfigOrExit } from '@grantstream/config';
import { Command, InvalidArgumentError } from 'commander';
import {
  GrantSubmissionV1Schema,
  TOPICS,
  funderIdOf,
  TOPIC_DECLARATIONS,
  type GrantSubmissionV1,
} from '@grantstream/contracts';
import { isPipelineError } from '@grantstream/errors';
import { applyDeclaredTopics, createPlatformClients, topicSpecsOf } from '@grantstream/kafka';
import { createLogger } from '@grantstream/logging';
import { sampleBatch } from './sample-batch';
import { LocalStack } from './stack';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/**
 * The main job on the local embedded stack: start Kafka and the registry,
 * apply the declared topics and schemas, send a sample batch of applications
 * to the ingest topic as Avro, and read it back the way a stage does.
 */
async function main(argv: string[]): Promise<number> {
  const opts = new Command('grantstream')
    .option('--count <n>', 'applications in the sample batch', positiveInt, 200)
    .option(
      '--read-timeout-ms <ms>',
      'how long to wait for the batch to read back',
      positiveInt,
      60_000,
    )
    .parse(argv)
    .opts<{ count: number; readTimeoutMs: number }>();
  const config = loadGrantstreamConfigOrExit(process.env);
  // Logs go to stderr: stdout is the progress and summary a person reads.
  const log = createLogger({
    service: 'main-job',
    level: config.logging.level,
    destination: process.stderr,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();

  out('1/4 local stack: Apache Kafka (KRaft) + Apicurio Registry on loopback');
  const actions = await new LocalStack(config, log).up();
  out(`    kafka ${actions.kafka}, registry ${actions.registry} (${Date.now() - started} ms)`);

  const clients = createPlatformClients(config, log);
  try {
    out('2/4 topics and schemas from schemas/topics.yaml');
    const report = await applyDeclaredTopics(
      clients,
      config,
      topicSpecsOf(TOPIC_DECLARATIONS),
      false,
    );
    out(
      `    ${report.created.length} created, ${report.inSync.length} in sync, ${report.drift.length} drift, ${report.schemas.length} value schemas registered`,
    );
    for (const d of report.drift)
      out(`    drift: ${d.topic} ${d.field} declared ${d.declared}, cluster has ${d.actual}`);

    const runTag = `R${Date.now().toString(36).toUpperCase()}`;
    const batch = sampleBatch(opts.count, runTag, Date.now());
    out(`3/4 sending ${batch.length} applications to ${TOPICS.INGEST} as Avro (run ${runTag})`);
    const sendStarted = Date.now();
    const values = await Promise.all(batch.map((g) => clients.serde.encode(TOPICS.INGEST, g)));
    await clients.io.produce(
      TOPICS.INGEST,
      batch.map((g, i) => ({ key: g.grant_id, value: values[i] ?? null })),
    );
    out(`    sent in ${Date.now() - sendStarted} ms`);

    out(`4/4 reading ${TOPICS.INGEST} back (read_committed) and checking every application`);
    const total = await clients.admin.messageCount(TOPICS.INGEST);
    const read = await clients.io.read(TOPICS.INGEST, {
      expected: total,
      timeoutMs: opts.readTimeoutMs,
      isolation: 'read_committed',
    });
    const sent = new Map(batch.map((g) => [g.grant_id, g]));
    let equal = 0;
    const problems: string[] = [];
    for (const m of read) {
      const key = m.key?.toString() ?? '';
      const original = sent.get(key);
      if (!original) continue;
      const decoded = GrantSubmissionV1Schema.safeParse(
        (await clients.serde.decode<GrantSubmissionV1>(m.value)).value,
      );
      if (decoded.success && JSON.stringify(decoded.data) === JSON.stringify(original)) equal += 1;
      else problems.push(key);
    }
    const byFunder = new Map<string, number>();
    for (const g of batch) {
      const funder = funderIdOf(g.grant_id);
      byFunder.set(funder, (byFunder.get(funder) ?? 0) + 1);
    }
    out('');
    out(
      `summary: ${equal}/${batch.length} applications read back and decoded equal; ${problems.length} mismatched`,
    );
    for (const [funder, n] of byFunder) out(`    ${funder.padEnd(6)} ${n}`);
    out(`    total ${Date.now() - started} ms`);
    return equal === batch.length ? 0 : 1;
  } finally {
    await clients.close();
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${isPipelineError(err) ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    process.exit(1);
  },
);
