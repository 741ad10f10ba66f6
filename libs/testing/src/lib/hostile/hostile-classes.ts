import type { GrantSubmissionV2 } from '@grantstream/contracts';
import { avroBranch, avroLong, avroString, framed, overlongVarint } from './avro-bytes';
import {
  type HostileClass,
  META_STRING,
  submissionBody,
  metadataWith,
  attachmentBytes,
  DAY_MS,
  valid,
  record,
  lying,
  VALIDATED,
  dead,
  schema,
  attachment,
  CLAIMED_ITEMS,
  CLAIMED_BYTES,
  prose,
  spoofedHeaders,
  scda,
} from './hostile-records';

export {
  EXTENDED_SUBMISSION_SCHEMA,
  OTHER_SUBJECT_SCHEMA,
  encodeSubmission,
  hostileGrantId,
  sentinelRecord,
  submissionBody,
  validSubmission,
  type HostileClass,
  type HostileContext,
  type HostileFamily,
  type HostileLimits,
  type HostileOutcome,
  type HostileRecord,
  type HostileSchemaIds,
} from './hostile-records';

/** Every class of hostile input the suite produces, in the order it produces them. */
export const HOSTILE_CLASSES: readonly HostileClass[] = [
  // --- Confluent wire format ---
  {
    name: 'wire.empty-value',
    family: 'wire',
    description: 'a value of zero bytes',
    expected: schema('SCHEMA_WIRE_FORMAT'),
    build: (_ctx, id) => ({ key: id, value: Buffer.alloc(0), grantId: id }),
  },
  {
    name: 'wire.tombstone',
    family: 'wire',
    description: 'a null value (a tombstone) on an ingest topic',
    expected: schema('SCHEMA_WIRE_FORMAT'),
    build: (_ctx, id) => ({ key: id, value: null, grantId: id }),
  },
  {
    name: 'wire.wrong-magic-byte',
    family: 'wire',
    description: 'a valid body framed with magic byte 1',
    expected: schema('SCHEMA_WIRE_FORMAT'),
    build: (ctx, id) => ({
      key: id,
      value: framed(ctx.ids.own, submissionBody(valid(ctx, id)), 1),
      grantId: id,
    }),
  },
  {
    name: 'wire.truncated-header',
    family: 'wire',
    description: 'three bytes: the wire header cut short',
    expected: schema('SCHEMA_WIRE_FORMAT'),
    build: (ctx, id) => ({
      key: id,
      value: framed(ctx.ids.own, Buffer.alloc(0)).subarray(0, 3),
      grantId: id,
    }),
  },
  {
    name: 'wire.header-only',
    family: 'wire',
    description: 'a complete wire header and no body at all',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => ({ key: id, value: framed(ctx.ids.own, Buffer.alloc(0)), grantId: id }),
  },
  {
    name: 'wire.unknown-schema-id',
    family: 'wire',
    description: 'a valid body under a schema id the registry does not know',
    expected: schema('SCHEMA_UNKNOWN_ID'),
    build: (ctx, id) => ({
      key: id,
      value: framed(ctx.ids.unknown, submissionBody(valid(ctx, id))),
      grantId: id,
    }),
  },
  {
    name: 'wire.other-subject-id',
    family: 'wire',
    description: "a valid record of another subject's schema (not a grant application)",
    expected: schema('SCHEMA_SUBJECT_MISMATCH'),
    build: (ctx, id) => ({
      key: id,
      value: framed(ctx.ids.otherSubject, avroString('not a grant application')),
      grantId: id,
    }),
  },
  // --- Avro body ---
  {
    name: 'avro.truncated-body',
    family: 'avro',
    description: 'a valid body cut in half',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const body = submissionBody(valid(ctx, id));
      return {
        key: id,
        value: framed(ctx.ids.own, body.subarray(0, body.length >> 1)),
        grantId: id,
      };
    },
  },
  {
    name: 'avro.trailing-garbage',
    family: 'avro',
    description: 'a valid body followed by bytes no field accounts for',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => lying(ctx, id, {}, ctx.ids.own, Buffer.from('GARBAGE-AFTER-THE-RECORD')),
  },
  {
    name: 'avro.array-count-2^31',
    family: 'avro',
    description: 'the attachments array claims about 2^31 items in one block',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(ctx, id, {
        attachments: Buffer.concat([
          avroLong(CLAIMED_ITEMS),
          attachmentBytes(ctx.files.pdf),
          avroLong(0),
        ]),
      }),
  },
  {
    name: 'avro.map-count-2^31',
    family: 'avro',
    description: 'the metadata map claims about 2^31 entries in one block',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(ctx, id, {
        metadata: Buffer.concat([
          avroLong(CLAIMED_ITEMS),
          avroString('k'),
          avroLong(0),
          avroLong(0),
        ]),
      }),
  },
  {
    name: 'avro.negative-block-backwards',
    family: 'avro',
    description: 'an array block with a negative count whose byte size points backwards',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(ctx, id, {
        attachments: Buffer.concat([
          avroLong(-CLAIMED_ITEMS),
          avroLong(-64),
          attachmentBytes(ctx.files.pdf),
          avroLong(0),
        ]),
      }),
  },
  {
    name: 'avro.item-budget',
    family: 'avro',
    description: 'more map entries than a record may hold, each real (bytes for every one)',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const n = ctx.limits.decodeMaxItems + 1;
      const entry = Buffer.concat([avroString('k'), avroLong(0)]);
      return lying(ctx, id, {
        metadata: Buffer.concat([
          avroLong(n),
          Buffer.concat(Array<Buffer>(n).fill(entry)),
          avroLong(0),
        ]),
      });
    },
  },
  {
    name: 'avro.huge-string-length',
    family: 'avro',
    description: 'a metadata key claims 2^40 bytes',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return lying(ctx, id, {
        metadata: metadataWith(
          sub,
          1,
          Buffer.concat([avroLong(CLAIMED_BYTES), Buffer.from('abc')]),
        ),
      });
    },
  },
  {
    name: 'avro.negative-string-length',
    family: 'avro',
    description: 'the grant id claims a length of -5 bytes',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(ctx, id, { grant_id: Buffer.concat([avroLong(-5), Buffer.from(id)]) }),
  },
  {
    name: 'avro.union-branch-out-of-range',
    family: 'avro',
    description: "an attachment's media_type union names branch 7 of 2",
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(ctx, id, {
        attachments: Buffer.concat([avroLong(1), attachmentBytes(ctx.files.pdf, 7), avroLong(0)]),
      }),
  },
  {
    name: 'avro.union-branch-negative',
    family: 'avro',
    description: 'a metadata value names union branch -1',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return lying(ctx, id, {
        metadata: metadataWith(sub, 1, Buffer.concat([avroString('x_branch'), avroLong(-1)])),
      });
    },
  },
  {
    name: 'avro.enum-index-invalid',
    family: 'avro',
    description: 'under a compatible version with an enum field, symbol index 9 of 2',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) =>
      lying(
        ctx,
        id,
        {},
        ctx.ids.extended,
        Buffer.concat([avroBranch(1, avroLong(9)), avroLong(0)]),
      ),
  },
  {
    name: 'avro.deep-nesting',
    family: 'avro',
    description: 'under a compatible version with a recursive type, arrays nested 50,000 deep',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const depth = ctx.limits.decodeMaxDepth * 1000 + 18_000;
      const tail = Buffer.concat([
        avroLong(0), // channel: null
        avroLong(1), // lineage: the Lineage branch
        Buffer.alloc(depth, 0x02), // each level: an array block of one item ...
        Buffer.from([0x00]), // ... the innermost array is empty ...
        Buffer.alloc(depth, 0x00), // ... and every level's array ends
      ]);
      return lying(ctx, id, {}, ctx.ids.extended, tail);
    },
  },
  {
    name: 'avro.overlong-varint',
    family: 'avro',
    description: 'the deadline is a varint whose continuation bit never clears',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => lying(ctx, id, { submission_deadline: overlongVarint(16) }),
  },
  {
    name: 'avro.long-beyond-2^53',
    family: 'avro',
    description: 'the deadline is 2^62: a long JavaScript cannot hold exactly',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => lying(ctx, id, { submission_deadline: avroLong(2n ** 62n) }),
  },
  {
    name: 'avro.invalid-utf8',
    family: 'avro',
    description:
      'a metadata string holding a surrogate encoded CESU-style (bytes ED A0 80): not UTF-8',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      const text = Buffer.from([0x41, 0xed, 0xa0, 0x80, 0x42]);
      return lying(ctx, id, {
        metadata: metadataWith(
          sub,
          1,
          Buffer.concat([avroString('x_note'), avroBranch(META_STRING, avroString(text))]),
        ),
      });
    },
  },
  // --- contract (decodes, then breaks the ingest contract) ---
  {
    name: 'contract.grant-id-empty',
    family: 'contract',
    description: 'an empty grant id',
    expected: schema('GRANT_ID_FORMAT'),
    build: (ctx, id) => ({ ...record(ctx, id, { ...valid(ctx, id), grant_id: '' }), grantId: '' }),
  },
  {
    name: 'contract.grant-id-control-chars',
    family: 'contract',
    description: 'a grant id with a NUL, a newline and a right-to-left override in it',
    expected: schema('GRANT_ID_FORMAT'),
    build: (ctx, id) => {
      const bad = `${id.slice(0, 9)}\u0000\n\u202e${id.slice(9)}`;
      return { ...record(ctx, id, { ...valid(ctx, id), grant_id: bad }), grantId: bad };
    },
  },
  {
    name: 'contract.funder-unknown',
    family: 'contract',
    description: 'a well-formed grant id naming a funder no rule pack exists for',
    expected: dead('UNKNOWN_FUNDER', 'UNKNOWN_FUNDER'),
    build: (ctx, id) => {
      const other = id.replace(/^[A-Z]+-/, 'ZZQX-');
      return { ...record(ctx, other), grantId: other };
    },
  },
  {
    name: 'contract.deadline-past',
    family: 'contract',
    description: 'a deadline yesterday: late, not malformed (compliance routing decides)',
    expected: VALIDATED,
    build: (ctx, id) =>
      record(ctx, id, { ...valid(ctx, id), submission_deadline: ctx.now - DAY_MS }),
  },
  {
    name: 'contract.deadline-negative',
    family: 'contract',
    description: 'a deadline of -1 ms (before 1970)',
    expected: schema('DEADLINE_UNPARSEABLE'),
    build: (ctx, id) => record(ctx, id, { ...valid(ctx, id), submission_deadline: -1 }),
  },
  {
    name: 'contract.deadline-absurd',
    family: 'contract',
    description: 'a deadline in the year 275,760 (the largest JavaScript date)',
    expected: schema('DEADLINE_UNPARSEABLE'),
    build: (ctx, id) => record(ctx, id, { ...valid(ctx, id), submission_deadline: 8.64e15 }),
  },
  {
    name: 'contract.metadata-nan',
    family: 'contract',
    description: 'a metadata double that is NaN',
    expected: schema('SCHEMA_CONTRACT_VIOLATION'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(ctx, id, { ...sub, metadata: { ...sub.metadata, score: Number.NaN } });
    },
  },
  {
    name: 'contract.metadata-infinity',
    family: 'contract',
    description: 'a metadata double that is -Infinity',
    expected: schema('SCHEMA_CONTRACT_VIOLATION'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(ctx, id, {
        ...sub,
        metadata: { ...sub.metadata, score: Number.NEGATIVE_INFINITY },
      });
    },
  },
  {
    name: 'contract.metadata-many-keys',
    family: 'contract',
    description: 'metadata with ten times the keys ingest accepts (thousands)',
    expected: schema('METADATA_TOO_MANY_KEYS'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      const metadata: GrantSubmissionV2['metadata'] = { ...sub.metadata };
      for (let i = 0; i < ctx.limits.maxMetadataKeys * 10; i += 1) metadata[`field_${i}`] = i;
      return record(ctx, id, { ...sub, metadata });
    },
  },
  {
    name: 'contract.metadata-long-array',
    family: 'contract',
    description: 'a metadata array with one item more than ingest accepts',
    expected: schema('METADATA_ARRAY_TOO_LONG'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      const keywords = Array.from({ length: ctx.limits.maxArrayItems + 1 }, (_, i) => `k${i}`);
      return record(ctx, id, { ...sub, metadata: { ...sub.metadata, keywords } });
    },
  },
  {
    name: 'contract.metadata-5mb-string',
    family: 'contract',
    description: 'a metadata string of five times the input record bound, sent gzip-compressed',
    expected: schema('INPUT_TOO_LARGE'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(
        ctx,
        id,
        {
          ...sub,
          metadata: { ...sub.metadata, narrative: prose(ctx.limits.maxInputRecordBytes * 5) },
        },
        { compression: 'gzip' },
      );
    },
  },
  {
    name: 'contract.funder-portal-blank',
    family: 'contract',
    description: 'a funder portal of white space',
    expected: schema('FUNDER_PORTAL_EMPTY'),
    build: (ctx, id) => record(ctx, id, { ...valid(ctx, id), funder_portal: ' \t ' }),
  },
  {
    name: 'contract.control-chars-in-text',
    family: 'contract',
    description:
      'C0 control characters (NUL, ESC, BEL) inside a metadata value: data, carried as is',
    expected: VALIDATED,
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(ctx, id, {
        ...sub,
        metadata: { ...sub.metadata, project_summary: 'line\u0000one\u001b[31m\u0007two' },
      });
    },
  },
  {
    name: 'contract.bidi-override-in-text',
    family: 'contract',
    description: 'right-to-left override and isolate characters in a title: data, carried as is',
    expected: VALIDATED,
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(ctx, id, {
        ...sub,
        metadata: { ...sub.metadata, project_title: 'Budget \u202etxt.exe\u2066 review\u2069' },
      });
    },
  },
  {
    name: 'contract.lone-surrogate-written',
    family: 'contract',
    description:
      'a lone UTF-16 surrogate in a title, written by a JavaScript producer (avsc writes ED A0 80: not UTF-8)',
    expected: schema('SCHEMA_BODY_INVALID'),
    build: (ctx, id) => {
      const sub = valid(ctx, id);
      return record(ctx, id, {
        ...sub,
        metadata: { ...sub.metadata, project_title: 'Sensors \ud800 and \udfff rivers' },
      });
    },
  },
  // --- keys: the key routes a record, its content decides; outputs are keyed by grant id ---
  {
    name: 'key.null',
    family: 'key',
    description: 'a valid application with no key',
    expected: VALIDATED,
    build: (ctx, id) => record(ctx, id, valid(ctx, id), { key: null }),
  },
  {
    name: 'key.not-the-grant-id',
    family: 'key',
    description: "a valid application keyed by another grant's id",
    expected: VALIDATED,
    build: (ctx, id) => record(ctx, id, valid(ctx, id), { key: 'NSF-2026-99999-SOMEONEELSE' }),
  },
  {
    name: 'key.huge',
    family: 'key',
    description: 'a valid application with a key of about 1 MB',
    expected: VALIDATED,
    build: (ctx, id) =>
      record(ctx, id, valid(ctx, id), {
        key: Buffer.alloc(ctx.limits.maxRecordBytes - 65_536, 0x4b),
      }),
  },
  {
    name: 'key.not-utf8',
    family: 'key',
    description: 'a valid application whose key bytes are not UTF-8',
    expected: VALIDATED,
    build: (ctx, id) =>
      record(ctx, id, valid(ctx, id), {
        key: Buffer.from([0xff, 0xfe, 0x80, 0xc0, 0x00, 0xed, 0xa0, 0x80]),
      }),
  },
  // --- headers ---
  {
    name: 'header.hundreds',
    family: 'header',
    description: 'a valid application carrying 512 headers',
    expected: VALIDATED,
    build: (ctx, id) => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 512; i += 1) headers[`x-upstream-${i}`] = `value ${i}`;
      return record(ctx, id, valid(ctx, id), { headers });
    },
  },
  {
    name: 'header.huge-value',
    family: 'header',
    description: 'a valid application with one header value of about 1 MB',
    expected: VALIDATED,
    build: (ctx, id) =>
      record(ctx, id, valid(ctx, id), {
        headers: { 'x-trace': Buffer.alloc(ctx.limits.maxRecordBytes - 65_536, 0x74) },
      }),
  },
  {
    name: 'header.spoofed-dead-letter',
    family: 'header',
    description: 'a valid application carrying dead-letter headers that claim it failed elsewhere',
    expected: VALIDATED,
    build: (ctx, id) => record(ctx, id, valid(ctx, id), { headers: spoofedHeaders() }),
  },
  {
    name: 'header.spoofed-on-rejected',
    family: 'header',
    description:
      'a rejected application whose spoofed dead-letter headers claim another failure and position',
    expected: schema('GRANT_ID_FORMAT'),
    build: (ctx, id) => {
      const bad = `${id}-`;
      return {
        ...record(ctx, id, { ...valid(ctx, id), grant_id: bad }, { headers: spoofedHeaders() }),
        grantId: bad,
      };
    },
  },
  {
    name: 'header.spoofed-audit-head',
    family: 'header',
    description: 'a valid application claiming an audit chain head (ingest starts every trail)',
    expected: VALIDATED,
    build: (ctx, id) =>
      record(ctx, id, valid(ctx, id), { headers: { 'grantstream.audit.head': 'f'.repeat(64) } }),
  },
  // --- attachments ---
  {
    name: 'attachment.outside-store',
    family: 'attachment',
    description: 'a file: uri outside the attachment store (/etc/hostname)',
    expected: attachment('ATTACHMENT_PATH_OUTSIDE_ROOT'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [
          { ...ctx.files.pdf, uri: 'file:///etc/hostname', size_bytes: null, sha256: null },
        ]),
      ),
  },
  {
    name: 'attachment.path-traversal',
    family: 'attachment',
    description: 'a uri inside the store that climbs out with ../',
    expected: attachment('ATTACHMENT_PATH_TRAVERSAL'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [
          {
            ...ctx.files.pdf,
            uri: `file://${ctx.files.storeDir}/../../../etc/passwd`,
            size_bytes: null,
            sha256: null,
          },
        ]),
      ),
  },
  {
    name: 'attachment.encoded-traversal',
    family: 'attachment',
    description: 'a uri that climbs out with percent-encoded dots (%2e%2e)',
    expected: attachment('ATTACHMENT_PATH_TRAVERSAL'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [
          {
            ...ctx.files.pdf,
            uri: `file://${ctx.files.storeDir}/%2e%2e/%2e%2e/etc/passwd`,
            size_bytes: null,
            sha256: null,
          },
        ]),
      ),
  },
  {
    name: 'attachment.symlink-outside',
    family: 'attachment',
    description: 'a symbolic link inside the store to a file outside it',
    expected: attachment('ATTACHMENT_PATH_OUTSIDE_ROOT'),
    build: (ctx, id) => record(ctx, id, valid(ctx, id, [ctx.files.linkOutside])),
  },
  {
    name: 'attachment.missing-file',
    family: 'attachment',
    description: 'a uri in the store naming no file',
    expected: attachment('ATTACHMENT_NOT_FOUND'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [{ ...ctx.files.pdf, uri: `file://${ctx.files.storeDir}/absent.pdf` }]),
      ),
  },
  {
    name: 'attachment.unsupported-scheme',
    family: 'attachment',
    description: 'a gopher: uri no store serves',
    expected: attachment('ATTACHMENT_SCHEME_UNSUPPORTED'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [{ ...ctx.files.pdf, uri: 'gopher://example.org/narrative.pdf' }]),
      ),
  },
  {
    name: 'attachment.sha256-mismatch',
    family: 'attachment',
    description: "a real file whose claimed SHA-256 is another file's",
    expected: attachment('ATTACHMENT_CHECKSUM_MISMATCH'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [{ ...ctx.files.pdf, sha256: ctx.files.encryptedPdf.sha256 }]),
      ),
  },
  {
    name: 'attachment.size-mismatch',
    family: 'attachment',
    description: 'a real file claimed one byte larger than it is',
    expected: attachment('ATTACHMENT_SIZE_MISMATCH'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(ctx, id, [{ ...ctx.files.pdf, size_bytes: (ctx.files.pdf.size_bytes ?? 0) + 1 }]),
      ),
  },
  {
    name: 'attachment.too-many',
    family: 'attachment',
    description: 'one attachment reference more than ingest accepts',
    expected: attachment('ATTACHMENT_COUNT_EXCEEDED'),
    build: (ctx, id) =>
      record(
        ctx,
        id,
        valid(
          ctx,
          id,
          Array.from({ length: ctx.limits.maxAttachments + 1 }, (_, i) => ({
            ...ctx.files.pdf,
            filename: `part-${i}.pdf`,
          })),
        ),
      ),
  },
  {
    name: 'attachment.bidi-filename',
    family: 'attachment',
    description: 'a filename with a right-to-left override hiding its real extension',
    expected: attachment('ATTACHMENT_FILENAME_INVALID'),
    build: (ctx, id) =>
      record(ctx, id, valid(ctx, id, [{ ...ctx.files.pdf, filename: 'narrative\u202efdp.exe' }])),
  },
  {
    name: 'attachment.truncated-pdf',
    family: 'attachment',
    description: 'a PDF cut in half: magic bytes intact, no trailer or %%EOF',
    expected: attachment('PDF_TRUNCATED'),
    build: (ctx, id) => record(ctx, id, valid(ctx, id, [ctx.files.truncatedPdf])),
  },
  {
    name: 'attachment.encrypted-pdf',
    family: 'attachment',
    description: 'an encrypted (password-protected) PDF',
    expected: attachment('PDF_ENCRYPTED'),
    build: (ctx, id) => record(ctx, id, valid(ctx, id, [ctx.files.encryptedPdf])),
  },
  {
    name: 'attachment.xlsx-traversal-entry',
    family: 'attachment',
    description: 'a workbook holding an entry named ../../evil.txt',
    expected: attachment('ZIP_PATH_TRAVERSAL'),
    build: (ctx, id) => scda(ctx, id, ctx.files.traversalXlsx),
  },
  {
    name: 'attachment.zip-many-entries',
    family: 'attachment',
    description: 'a workbook-looking ZIP of twice the entries ingest accepts (20,000)',
    expected: attachment('ZIP_TOO_MANY_ENTRIES'),
    build: (ctx, id) => scda(ctx, id, ctx.files.manyEntriesXlsx),
  },
  {
    name: 'attachment.docx-without-eocd',
    family: 'attachment',
    description: 'a document without its end-of-central-directory record',
    expected: attachment('ZIP_EOCD_MISSING'),
    build: (ctx, id) => scda(ctx, id, ctx.files.docxWithoutEocd),
  },
  {
    name: 'attachment.media-type-lies',
    family: 'attachment',
    description: 'a workbook declared application/pdf and named .pdf',
    expected: attachment('ATTACHMENT_TYPE_MISMATCH'),
    build: (ctx, id) => scda(ctx, id, ctx.files.xlsxClaimingPdf),
  },
];
