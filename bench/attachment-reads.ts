/**
 * Ingest's attachment read: open a small file through FileAttachmentStore and
 * inspect it (hash, size, sniff, PDF structure) as the validation step does,
 * streamed in chunks (wholeReadMaxBytes 0) and read whole in one read (the
 * configured ingest.storage.wholeReadBytes), side by side in one process
 * (docs/benchmarks.md, "Three stages").
 *
 *   node --import tsx bench/attachment-reads.ts [--files 50] [--reads 5000] [--rounds 7] [--size 1000]
 *
 * The files are PDFs of about `--size` bytes, like the pipeline benchmark's.
 * Per round and way, `--reads` attachments are inspected one after another;
 * the figures are the medians of the rounds: wall microseconds and CPU
 * microseconds (the process's user + system time, the thread pool's reads
 * included) per attachment. Both ways must give the same digests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { FileAttachmentStore, inspectAttachment, type StructureLimits } from '@grantstream/storage';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '50' },
    reads: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '7' },
    size: { type: 'string', default: '1000' },
  },
});
const files = Number(values.files);
const reads = Number(values.reads);
const rounds = Number(values.rounds);
const size = Number(values.size);

const config = loadConfig({
  schema: z.object({
    ingest: z.object({
      storage: z.object({
        sniffBytes: z.int(),
        wholeReadBytes: z.int().min(0),
        inspect: z.custom<StructureLimits>((v) => typeof v === 'object' && v !== null),
      }),
    }),
  }),
  files: [DEFAULT_CONFIG_FILE],
  env: process.env,
}).ingest.storage;

/** A minimal valid PDF (catalog, empty page tree, xref, trailer) padded to about `bytes`. */
function pdf(body: string, bytes: number): Buffer {
  let text = `%PDF-1.7\n% ${body.padEnd(Math.max(0, bytes - 300), '.')}\n`;
  const offsets: number[] = [];
  for (const object of [
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
  ]) {
    offsets.push(Buffer.byteLength(text, 'latin1'));
    text += object;
  }
  const xref = Buffer.byteLength(text, 'latin1');
  text +=
    `xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-attachment-reads-'));
  try {
    const uris = Array.from({ length: files }, (_, i) => {
      const path = join(dir, `narrative-${i}.pdf`);
      writeFileSync(path, pdf(`project narrative ${i}`, size));
      return `file://${path}`;
    });
    const streamed = new FileAttachmentStore({ roots: [dir], wholeReadMaxBytes: 0 });
    const whole = new FileAttachmentStore({
      roots: [dir],
      wholeReadMaxBytes: config.wholeReadBytes,
    });

    const run = async (store: FileAttachmentStore) => {
      const digests: string[] = [];
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reads; i++) {
        const uri = uris[i % uris.length] ?? '';
        const facts = await inspectAttachment(await store.open(uri), {
          maxBytes: config.wholeReadBytes * 16,
          sniffBytes: config.sniffBytes,
          structure: { limits: config.inspect },
        });
        if (i < uris.length) digests.push(facts.sha256);
      }
      const wallUs = Number(process.hrtime.bigint() - t0) / 1000 / reads;
      const cpu = process.cpuUsage(cpu0);
      return { wallUs, cpuUs: (cpu.user + cpu.system) / reads, digests: digests.join() };
    };

    const median = (xs: number[]) =>
      [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const s = { wall: [] as number[], cpu: [] as number[] };
    const w = { wall: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const a = await run(streamed);
      const b = await run(whole);
      if (a.digests !== b.digests) throw new Error('the two ways read different bytes');
      s.wall.push(a.wallUs);
      s.cpu.push(a.cpuUs);
      w.wall.push(b.wallUs);
      w.cpu.push(b.cpuUs);
    }
    const f = (x: number) => x.toFixed(1);
    console.log(
      `attachment open + inspect, ${files} PDFs of ${pdf('project narrative 0', size).length} bytes, ${reads} reads x ${rounds} rounds, whole read up to ${config.wholeReadBytes} bytes`,
    );
    console.log(
      `median per attachment: streamed ${f(median(s.wall))} us wall / ${f(median(s.cpu))} us CPU; read whole ${f(median(w.wall))} us wall / ${f(median(w.cpu))} us CPU (CPU ${(median(s.cpu) / median(w.cpu)).toFixed(2)}x)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
