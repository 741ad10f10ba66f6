import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttachmentRefV1 } from '@grantstream/contracts';
import {
  docxWithoutEocd,
  encryptedPdf,
  goodPdf,
  goodXlsx,
  manyEntriesXlsx,
  traversalXlsx,
  truncatedPdf,
} from '../attachment-fixtures';

const PDF = 'application/pdf';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** References to the real files of a hostile run, good and bad, in its attachment store. */
export interface HostileFiles {
  /** The attachment store directory (the stage's only file root). */
  storeDir: string;
  /** A directory outside the store, holding a file a symbolic link inside points to. */
  outsideDir: string;
  pdf: AttachmentRefV1;
  truncatedPdf: AttachmentRefV1;
  encryptedPdf: AttachmentRefV1;
  traversalXlsx: AttachmentRefV1;
  manyEntriesXlsx: AttachmentRefV1;
  docxWithoutEocd: AttachmentRefV1;
  /** A workbook (a ZIP) whose reference claims it is a PDF. */
  xlsxClaimingPdf: AttachmentRefV1;
  /** A symbolic link inside the store to a PDF outside it. */
  linkOutside: AttachmentRefV1;
}

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function write(dir: string, name: string, bytes: Buffer, mediaType: string): AttachmentRefV1 {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return {
    uri: `file://${path}`,
    media_type: mediaType,
    size_bytes: bytes.length,
    sha256: sha256Hex(bytes),
    filename: name,
  };
}

/**
 * Writes the files hostile classes reference into `storeDir` (and one into
 * `outsideDir`). `zipEntries` is the entry count of the many-entries
 * workbook: past the stage's configured bound.
 */
export async function writeHostileFiles(
  storeDir: string,
  outsideDir: string,
  zipEntries: number,
): Promise<HostileFiles> {
  mkdirSync(storeDir, { recursive: true });
  mkdirSync(outsideDir, { recursive: true });
  const pdfBytes = await goodPdf({ text: 'Project narrative' });
  const outside = write(outsideDir, 'outside.pdf', pdfBytes, PDF);
  const linkPath = join(storeDir, 'linked.pdf');
  symlinkSync(join(outsideDir, 'outside.pdf'), linkPath);
  const xlsx = goodXlsx();
  return {
    storeDir,
    outsideDir,
    pdf: write(storeDir, 'narrative.pdf', pdfBytes, PDF),
    truncatedPdf: write(storeDir, 'truncated.pdf', await truncatedPdf(), PDF),
    encryptedPdf: write(storeDir, 'encrypted.pdf', await encryptedPdf(), PDF),
    traversalXlsx: write(storeDir, 'traversal.xlsx', traversalXlsx(), XLSX),
    manyEntriesXlsx: write(storeDir, 'many.xlsx', manyEntriesXlsx(zipEntries), XLSX),
    docxWithoutEocd: write(storeDir, 'no-eocd.docx', docxWithoutEocd(), DOCX),
    xlsxClaimingPdf: { ...write(storeDir, 'budget.pdf', xlsx, XLSX), media_type: PDF },
    linkOutside: { ...outside, uri: `file://${linkPath}`, filename: 'linked.pdf' },
  };
}
