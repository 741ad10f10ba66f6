import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';

/**
 * Real attachment bytes for tests, good and hostile: PDFs written by pdf-lib
 * and OOXML packages zipped by fflate, then damaged the way upstream files
 * arrive damaged (cut short, encrypted, scripted, crafted entry names).
 */

const PDF_HEAD = '%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n';
const PDF_OBJECTS = [
  '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
  '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n',
];

/** The cross-reference table, trailer and %%EOF of {@link PDF_OBJECTS} at the given offsets. */
function pdfTail(objectOffsets: readonly number[], xrefOffset: number): string {
  const entries = objectOffsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  return (
    `xref\n0 ${objectOffsets.length + 1}\n0000000000 65535 f \n${entries}` +
    `trailer\n<< /Size ${objectOffsets.length + 1} /Root 1 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`
  );
}

/**
 * The smallest structurally sound PDF (header, catalog, empty page tree,
 * cross-reference table, trailer, %%EOF) with `note` as a comment line, so
 * different notes give different bytes. Synchronous, for test support code.
 */
export function minimalPdf(note = ''): Buffer {
  let text = `${PDF_HEAD}% ${note.replace(/[\r\n]/g, ' ')}\n`;
  const offsets: number[] = [];
  for (const object of PDF_OBJECTS) {
    offsets.push(Buffer.byteLength(text, 'latin1'));
    text += object;
  }
  return Buffer.from(text + pdfTail(offsets, Buffer.byteLength(text, 'latin1')), 'latin1');
}

/**
 * Writes a sound PDF of exactly `size` bytes whose middle is a hole made by
 * truncate (NUL bytes are white space to a PDF reader): a large attachment
 * that costs no disk.
 */
export function writeSparsePdf(path: string, size: number): void {
  let head = PDF_HEAD;
  const offsets: number[] = [];
  for (const object of PDF_OBJECTS) {
    offsets.push(Buffer.byteLength(head, 'latin1'));
    head += object;
  }
  // The table's offset is written in the tail itself: settle its length first.
  let tail = Buffer.from(pdfTail(offsets, size), 'latin1');
  for (let i = 0; i < 3; i++) tail = Buffer.from(pdfTail(offsets, size - tail.length), 'latin1');
  if (Buffer.byteLength(head, 'latin1') + tail.length > size) {
    throw new RangeError(`a sound PDF needs more than ${size} bytes`);
  }
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.from(head, 'latin1'));
    ftruncateSync(fd, size - tail.length);
    writeSync(fd, tail, 0, tail.length, size - tail.length);
  } finally {
    closeSync(fd);
  }
}

/** Options of {@link goodPdf}. */
export interface PdfFixtureOptions {
  /** Write objects and the cross-reference section as PDF 1.5 compressed streams (pdf-lib's default). */
  objectStreams?: boolean;
  /** Text of the page; long text makes a larger file. */
  text?: string;
}

async function newPdf(text: string): Promise<PDFDocument> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([612, 792]);
  page.drawText(text, { x: 72, y: 720, size: 11, font, maxWidth: 468, lineHeight: 14 });
  return doc;
}

async function save(doc: PDFDocument, options: PdfFixtureOptions): Promise<Buffer> {
  return Buffer.from(await doc.save({ useObjectStreams: options.objectStreams ?? false }));
}

/** A structurally sound one-page PDF. */
export async function goodPdf(options: PdfFixtureOptions = {}): Promise<Buffer> {
  return save(await newPdf(options.text ?? 'Project narrative'), options);
}

/** A good PDF cut in half: its magic bytes are intact, its trailer and %%EOF are gone. */
export async function truncatedPdf(options: PdfFixtureOptions = {}): Promise<Buffer> {
  const whole = await goodPdf({ ...options, text: (options.text ?? 'narrative ').repeat(200) });
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/**
 * A PDF whose trailer names an AES-256 standard security handler (PDF 2.0,
 * V 5 R 6), as a password-protected file carries it. The streams themselves
 * are left readable; a checker must go by the dictionary, as portals do.
 */
export async function encryptedPdf(options: PdfFixtureOptions = {}): Promise<Buffer> {
  const doc = await newPdf('Confidential narrative');
  const ctx = doc.context;
  const filler = (n: number) => PDFString.of('x'.repeat(n));
  const encrypt = ctx.obj({
    Filter: 'Standard',
    V: 5,
    R: 6,
    Length: 256,
    P: -3904,
    O: filler(48),
    U: filler(48),
    OE: filler(32),
    UE: filler(32),
    Perms: filler(16),
    StmF: 'StdCF',
    StrF: 'StdCF',
    CF: { StdCF: { CFM: 'AESV3', AuthEvent: 'DocOpen', Length: 32 } },
  });
  ctx.trailerInfo.Encrypt = ctx.register(encrypt);
  return save(doc, options);
}

/** A PDF whose catalog runs JavaScript when the file is opened. */
export async function javascriptPdf(options: PdfFixtureOptions = {}): Promise<Buffer> {
  const doc = await newPdf('Budget justification');
  const action = doc.context.obj({ Type: 'Action', S: 'JavaScript' });
  action.set(PDFName.of('JS'), PDFString.of('app.alert("opened");'));
  doc.catalog.set(PDFName.of('OpenAction'), doc.context.register(action));
  return save(doc, options);
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const mtime = new Date(2026, 0, 15, 9, 0, 0);

function contentTypes(overrides: readonly [string, string][]): string {
  return (
    `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    overrides.map(([p, t]) => `<Override PartName="${p}" ContentType="${t}"/>`).join('') +
    '</Types>'
  );
}

function rels(target: string): string {
  return (
    `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="${target}"/>` +
    '</Relationships>'
  );
}

/** Zips `[name, text]` entries in order (the first is where sniffers look). */
export function zipOf(entries: readonly [string, string | Uint8Array][], level = 6): Buffer {
  const files: Zippable = {};
  for (const [name, data] of entries)
    files[name] = [typeof data === 'string' ? strToU8(data) : data, { mtime }];
  return Buffer.from(zipSync(files, { level: level as 6, mtime }));
}

/** The parts of a minimal one-sheet workbook. */
export function xlsxParts(): [string, string][] {
  return [
    [
      '[Content_Types].xml',
      contentTypes([
        [
          '/xl/workbook.xml',
          'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
        ],
      ]),
    ],
    ['_rels/.rels', rels('xl/workbook.xml')],
    [
      'xl/workbook.xml',
      `${XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/></workbook>`,
    ],
  ];
}

/** The parts of a minimal one-paragraph document. */
export function docxParts(): [string, string][] {
  return [
    [
      '[Content_Types].xml',
      contentTypes([
        [
          '/word/document.xml',
          'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
        ],
      ]),
    ],
    ['_rels/.rels', rels('word/document.xml')],
    [
      'word/document.xml',
      `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p/></w:body></w:document>`,
    ],
  ];
}

/** A structurally sound workbook. */
export function goodXlsx(): Buffer {
  return zipOf(xlsxParts());
}

/** A structurally sound word-processing document. */
export function goodDocx(): Buffer {
  return zipOf(docxParts());
}

/** A workbook that also holds an entry whose name climbs out of the extraction directory. */
export function traversalXlsx(name = '../../evil.txt'): Buffer {
  return zipOf([...xlsxParts(), [name, 'owned']]);
}

/** A workbook-looking package of `count` entries in all (the few real parts, then filler). */
export function manyEntriesXlsx(count: number): Buffer {
  const parts: [string, string | Uint8Array][] = xlsxParts();
  const filler = new Uint8Array(0);
  for (let i = parts.length; i < count; i++) parts.push([`xl/media/f${i}.bin`, filler]);
  return zipOf(parts, 0);
}

/** A document whose end-of-central-directory record (the last 22 bytes, no comment) is cut off. */
export function docxWithoutEocd(): Buffer {
  const whole = goodDocx();
  return whole.subarray(0, whole.length - 22);
}

/** A workbook with one entry of `bytes` zeros, which deflate to about a thousandth of that. */
export function bombXlsx(bytes: number): Buffer {
  return zipOf([...xlsxParts(), ['xl/media/zeros.bin', new Uint8Array(bytes)]], 9);
}
