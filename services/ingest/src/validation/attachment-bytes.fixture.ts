import { strToU8, zipSync } from 'fflate';

/**
 * Small real attachments for the ingest specs, written by hand so each spec
 * states the bytes it judges: a sound PDF (header, catalog, cross-reference
 * table, trailer, %%EOF) with optional catalog entries, and ZIP packages.
 */
export function pdfBytes(options: { note?: string; catalog?: string } = {}): Buffer {
  let text = `%PDF-1.7\n% ${options.note ?? ''}\n`;
  const objects = [
    `1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${options.catalog ?? ''} >>\nendobj\n`,
    '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
  ];
  const offsets: number[] = [];
  for (const o of objects) {
    offsets.push(Buffer.byteLength(text, 'latin1'));
    text += o;
  }
  const xref = Buffer.byteLength(text, 'latin1');
  text += `xref\n0 3\n0000000000 65535 f \n`;
  text += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  text += `trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

/** A ZIP of the named entries, each holding its own name as text. */
export function zipBytes(names: readonly string[]): Buffer {
  const files: Record<string, Uint8Array> = {};
  for (const name of names) files[name] = strToU8(name);
  return Buffer.from(zipSync(files));
}
