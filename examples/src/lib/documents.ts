import { zipSync, strToU8, type Zippable } from 'fflate';
import { PDFDocument, StandardFonts, rgb, type PDFFont } from 'pdf-lib';

/**
 * The one instant every generated document claims as its creation and
 * modification time: documents must not depend on when they were generated.
 */
const DOCUMENT_EPOCH = Date.UTC(2026, 0, 15, 9, 0, 0);
const PRODUCER = 'grantstream examples generator';

/** Content of a one-page PDF: a heading, the grant title and a few lines of text. */
export interface PdfContent {
  heading: string;
  title: string;
  lines: readonly string[];
}

/**
 * Helvetica (a standard, non-embedded font) encodes WinAnsi only: characters
 * outside it are spelled without their accents, and failing that replaced.
 */
const characterSets = new Map<string, ReadonlySet<number>>();

function encodable(font: PDFFont, text: string): string {
  let supported = characterSets.get(font.name);
  if (!supported) {
    supported = new Set(font.getCharacterSet());
    characterSets.set(font.name, supported);
  }
  let out = '';
  for (const ch of text.normalize('NFC')) {
    if (supported.has(ch.codePointAt(0) ?? 0)) {
      out += ch;
      continue;
    }
    const bare = ch.normalize('NFD').replace(/\p{M}/gu, '');
    out += [...bare].every((c) => supported.has(c.codePointAt(0) ?? 0)) ? bare : '?';
  }
  return out;
}

/**
 * Greedy word wrap. pdf-lib can wrap by itself (maxWidth), but it measures
 * every growing prefix of a line, which made generating the batch's few
 * hundred PDFs take seconds; measuring each word once is enough.
 */
function wrap(font: PDFFont, size: number, text: string, maxWidth: number): string[] {
  if (text === '') return [''];
  const space = font.widthOfTextAtSize(' ', size);
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const w = font.widthOfTextAtSize(word, size);
    if (line !== '' && lineWidth + space + w > maxWidth) {
      lines.push(line);
      line = word;
      lineWidth = w;
    } else {
      lineWidth += (line === '' ? 0 : space) + w;
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/**
 * A one-page PDF. pdf-lib stamps the current time and its own producer by
 * default; both are set explicitly (and its font-key suffixes come from a
 * fixed seed), so the same content gives the same bytes on every run.
 */
export async function pdfDocument(content: PdfContent): Promise<Uint8Array> {
  const doc = await PDFDocument.create({ updateMetadata: false });
  const fixed = new Date(DOCUMENT_EPOCH);
  doc.setTitle(content.title.normalize('NFC'));
  doc.setAuthor('grantstream examples');
  doc.setProducer(PRODUCER);
  doc.setCreator(PRODUCER);
  doc.setCreationDate(fixed);
  doc.setModificationDate(fixed);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage([612, 792]);
  const width = 612 - 2 * 72;
  page.drawText(encodable(bold, content.heading), {
    x: 72,
    y: 720,
    size: 11,
    font: bold,
    color: rgb(0.3, 0.3, 0.3),
  });
  const titleLines = wrap(bold, 16, encodable(bold, content.title), width);
  page.drawText(titleLines.join('\n'), { x: 72, y: 690, size: 16, font: bold, lineHeight: 20 });
  const body = content.lines.flatMap((l) => wrap(regular, 11, encodable(regular, l), width));
  page.drawText(body.join('\n'), {
    x: 72,
    y: 690 - 20 * titleLines.length - 16,
    size: 11,
    font: regular,
    lineHeight: 15,
  });
  return doc.save({ useObjectStreams: false });
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const DOC_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

function xmlText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * A ZIP package with a fixed entry time. fflate writes DOS times from the
 * local-time fields of the date, so the date is built from local fields too:
 * the bytes then do not depend on the machine's time zone.
 */
function officePackage(parts: readonly [string, string][]): Uint8Array {
  const mtime = new Date(2026, 0, 15, 9, 0, 0);
  const files: Zippable = {};
  // Object key order is insertion order: [Content_Types].xml must come first,
  // which is where content sniffers look for an OOXML package.
  for (const [name, xml] of parts) files[name] = [strToU8(xml), { mtime }];
  return zipSync(files, { level: 6, mtime });
}

/** A cell value of a generated worksheet. */
export type Cell = string | number | null;

function columnName(index: number): string {
  let n = index + 1;
  let name = '';
  while (n > 0) {
    const rem = (n - 1) % 26;
    name = String.fromCharCode(65 + rem) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

/**
 * A minimal valid SpreadsheetML workbook with one sheet: strings inline
 * (no shared-strings part), numbers as values.
 */
export function xlsxWorkbook(sheetName: string, rows: readonly (readonly Cell[])[]): Uint8Array {
  const sheetRows = rows
    .map((row, r) => {
      const cells = row
        .map((value, c) => {
          const ref = `${columnName(c)}${r + 1}`;
          if (value === null) return '';
          if (typeof value === 'number') return `<c r="${ref}"><v>${value}</v></c>`;
          return `<c r="${ref}" t="inlineStr"><is><t xml:space="preserve">${xmlText(value)}</t></is></c>`;
        })
        .join('');
      return `<row r="${r + 1}">${cells}</row>`;
    })
    .join('');
  return officePackage([
    [
      '[Content_Types].xml',
      `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
        '</Types>',
    ],
    [
      '_rels/.rels',
      `${XML_HEAD}<Relationships xmlns="${REL_NS}">` +
        `<Relationship Id="rId1" Type="${DOC_REL}/officeDocument" Target="xl/workbook.xml"/>` +
        '</Relationships>',
    ],
    [
      'xl/workbook.xml',
      `${XML_HEAD}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${DOC_REL}">` +
        `<sheets><sheet name="${xmlText(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_HEAD}<Relationships xmlns="${REL_NS}">` +
        `<Relationship Id="rId1" Type="${DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
        '</Relationships>',
    ],
    [
      'xl/worksheets/sheet1.xml',
      `${XML_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
        `<sheetData>${sheetRows}</sheetData></worksheet>`,
    ],
  ]);
}

/** A minimal valid WordprocessingML document: one paragraph per line, the first in bold. */
export function docxDocument(paragraphs: readonly string[]): Uint8Array {
  const body = paragraphs
    .map(
      (p, i) =>
        `<w:p><w:r>${i === 0 ? '<w:rPr><w:b/></w:rPr>' : ''}<w:t xml:space="preserve">${xmlText(p)}</w:t></w:r></w:p>`,
    )
    .join('');
  return officePackage([
    [
      '[Content_Types].xml',
      `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
        '</Types>',
    ],
    [
      '_rels/.rels',
      `${XML_HEAD}<Relationships xmlns="${REL_NS}">` +
        `<Relationship Id="rId1" Type="${DOC_REL}/officeDocument" Target="word/document.xml"/>` +
        '</Relationships>',
    ],
    [
      'word/document.xml',
      `${XML_HEAD}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
        `<w:body>${body}<w:sectPr/></w:body></w:document>`,
    ],
  ]);
}

/**
 * Bytes that look like a Windows executable (a DOS header with its "MZ" magic,
 * the DOS stub message and a PE signature): what a content sniffer must catch
 * when it is named `.pdf`. It is not a runnable program.
 */
export function executableStub(): Uint8Array {
  const out = new Uint8Array(1024);
  out.set([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff]);
  out.set([0xb8, 0x00], 0x10);
  out.set([0x40, 0x00], 0x18);
  // e_lfanew: offset of the PE header.
  out.set([0x80, 0x00, 0x00, 0x00], 0x3c);
  out.set(strToU8('This program cannot be run in DOS mode.\r\r\n$'), 0x4e);
  // "PE\0\0", machine x86-64, one section.
  out.set([0x50, 0x45, 0x00, 0x00, 0x64, 0x86, 0x01, 0x00], 0x80);
  return out;
}

/** The start of a PDF, for a file whose tail is a hole made by truncate (a sparse file). */
export const PDF_HEADER: Uint8Array = strToU8('%PDF-1.7\n%\u00e2\u00e3\u00cf\u00d3\n', true);
