import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MEDIA_TYPES, sniffMediaType } from './sniff-media-type';

interface ZipEntry {
  name: string;
  data: string;
  /** Deflate the data, as Office does. */
  deflate?: boolean;
  /** Leave sizes out of the local header (general purpose flag bit 3), as streaming writers do. */
  dataDescriptor?: boolean;
  extra?: Buffer;
}

/** A ZIP archive's local headers and data, written by hand; no central directory is needed for sniffing. */
function zipOf(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const raw = Buffer.from(entry.data);
    const data = entry.deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(entry.name, 'latin1');
    const extra = entry.extra ?? Buffer.alloc(0);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(entry.dataDescriptor ? 0x0008 : 0, 6);
    header.writeUInt16LE(entry.deflate ? 8 : 0, 8);
    header.writeUInt32LE(0, 14);
    header.writeUInt32LE(entry.dataDescriptor ? 0 : data.length, 18);
    header.writeUInt32LE(entry.dataDescriptor ? 0 : raw.length, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(extra.length, 28);
    parts.push(header, name, extra, data);
    if (entry.dataDescriptor) {
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(data.length, 8);
      descriptor.writeUInt32LE(raw.length, 12);
      parts.push(descriptor);
    }
  }
  return Buffer.concat(parts);
}

const contentTypes: ZipEntry = {
  name: '[Content_Types].xml',
  data: '<?xml version="1.0"?><Types>'.padEnd(2000, ' ') + '</Types>',
  deflate: true,
};
const bytes = (...values: number[]): Buffer => Buffer.from(values);

describe('sniffMediaType', () => {
  it.each<[string, Buffer, string]>([
    ['a PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), MEDIA_TYPES.pdf],
    [
      'an xlsx with [Content_Types].xml first',
      zipOf([
        contentTypes,
        { name: '_rels/.rels', data: '<Relationships/>', deflate: true },
        { name: 'xl/workbook.xml', data: '<workbook/>', deflate: true },
      ]),
      MEDIA_TYPES.xlsx,
    ],
    [
      'a docx',
      zipOf([contentTypes, { name: 'word/document.xml', data: '<w:document/>', deflate: true }]),
      MEDIA_TYPES.docx,
    ],
    [
      'a pptx',
      zipOf([contentTypes, { name: 'ppt/presentation.xml', data: '<p/>', deflate: true }]),
      MEDIA_TYPES.pptx,
    ],
    [
      'an xlsx written with data descriptors',
      zipOf([
        { ...contentTypes, dataDescriptor: true },
        { name: 'xl/workbook.xml', data: '<workbook/>', deflate: true, dataDescriptor: true },
      ]),
      MEDIA_TYPES.xlsx,
    ],
    [
      'an xlsx whose headers carry extra fields',
      zipOf([
        { ...contentTypes, extra: Buffer.alloc(28, 1) },
        { name: 'xl/styles.xml', data: '<styleSheet/>', extra: Buffer.alloc(9, 2) },
      ]),
      MEDIA_TYPES.xlsx,
    ],
    [
      'a plain zip',
      zipOf([{ name: 'budget/notes.txt', data: 'xl/ is only text here', deflate: true }]),
      MEDIA_TYPES.zip,
    ],
    [
      'an empty zip',
      bytes(0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)),
      MEDIA_TYPES.zip,
    ],
    ['a zip cut inside its first header', zipOf([contentTypes]).subarray(0, 20), MEDIA_TYPES.zip],
    [
      'an OLE2 compound file',
      bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0),
      MEDIA_TYPES.ole,
    ],
    ['a PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), MEDIA_TYPES.png],
    ['a JPEG', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 16), MEDIA_TYPES.jpeg],
    ['a GIF87a', Buffer.from('GIF87a\x01\x00'), MEDIA_TYPES.gif],
    ['a GIF89a', Buffer.from('GIF89a\x01\x00'), MEDIA_TYPES.gif],
    ['a little-endian TIFF', bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0), MEDIA_TYPES.tiff],
    ['a big-endian TIFF', bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8), MEDIA_TYPES.tiff],
    [
      'a Windows executable',
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00'),
      MEDIA_TYPES.windowsExecutable,
    ],
    ['an ELF binary', bytes(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1), MEDIA_TYPES.elf],
    ['a 32-bit big-endian Mach-O', bytes(0xfe, 0xed, 0xfa, 0xce, 0), MEDIA_TYPES.machO],
    ['a 64-bit big-endian Mach-O', bytes(0xfe, 0xed, 0xfa, 0xcf, 0), MEDIA_TYPES.machO],
    ['a 32-bit little-endian Mach-O', bytes(0xce, 0xfa, 0xed, 0xfe, 0), MEDIA_TYPES.machO],
    ['a 64-bit little-endian Mach-O', bytes(0xcf, 0xfa, 0xed, 0xfe, 0), MEDIA_TYPES.machO],
    ['a universal Mach-O', bytes(0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2), MEDIA_TYPES.machO],
    ['a shell script', Buffer.from('#!/bin/sh\nrm -rf /\n'), MEDIA_TYPES.script],
    ['ASCII text', Buffer.from('Project narrative\n'), MEDIA_TYPES.text],
    ['UTF-8 text', Buffer.from('Résumé — 数据 ✓'), MEDIA_TYPES.text],
    ['UTF-8 text cut inside a character', Buffer.from('naïve ✓').subarray(0, 9), MEDIA_TYPES.text],
    ['text with a NUL byte', Buffer.from('abc\0def'), MEDIA_TYPES.unknown],
    ['bytes that are not UTF-8', bytes(0x41, 0xff, 0xfe, 0x42), MEDIA_TYPES.unknown],
    ['UTF-16 text', Buffer.from('\ufeffhello', 'utf16le'), MEDIA_TYPES.unknown],
    ['nothing', Buffer.alloc(0), MEDIA_TYPES.unknown],
  ])('recognizes %s', (_what, head, expected) => {
    expect(sniffMediaType(head)).toBe(expected);
  });

  it('finds OOXML parts only within the head it is given', () => {
    const xlsx = zipOf([contentTypes, { name: 'xl/workbook.xml', data: '<workbook/>' }]);
    const cut = xlsx.indexOf(Buffer.from('xl/workbook.xml'));
    expect(sniffMediaType(xlsx.subarray(0, cut))).toBe(MEDIA_TYPES.zip);
    expect(sniffMediaType(xlsx)).toBe(MEDIA_TYPES.xlsx);
  });
});
