import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

/** The read model's settings: its store file, the topics it projects and how it reads them. */
export const readModelSectionSchema = z.strictObject({
  /** The SQLite file (`~/` is the home folder); `:memory:` keeps the model in memory only. */
  storePath: z
    .string()
    .min(1)
    .transform((p) => (p === '~' || p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p)),
  /** The topics projected: the declared ones, or a scenario's own copies. */
  topics: z.strictObject({
    audit: z.string().min(1),
    status: z.string().min(1),
    deadLetters: z.string().min(1),
  }),
  /** Bytes per fetch: the projector's memory bound, whatever the topics' size. */
  maxBytesPerFetch: z.int().min(1024),
  /** How long one fetch may wait for data. */
  maxWaitMs: z.int().positive(),
  /** Empty fetches in a row below a partition's end before a read reports it stuck. */
  maxEmptyFetches: z.int().min(1),
  /** Pause between two passes over the topics once caught up: how stale a page can be. */
  pollIntervalMs: z.int().positive(),
  /** Records written per store transaction at most; positions are written with them. */
  maxBatchRecords: z.int().min(1),
});

/** Parsed {@link readModelSectionSchema}. */
export type ReadModelSection = z.infer<typeof readModelSectionSchema>;
