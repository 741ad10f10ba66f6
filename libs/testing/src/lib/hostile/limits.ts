import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import type { HostileLimits } from './hostile-classes';

const count = z.number().int().positive();

/** The parts of the validated configuration hostile sizes derive from (the rest is ignored). */
const hostileConfigSchema = z.object({
  registry: z.object({ decodeLimits: z.object({ maxItems: count, maxDepth: count }) }),
  runner: z.object({
    maxRecordBytes: count,
    memory: z.object({ maxInputRecordBytes: count, budgetMb: count }),
  }),
  ingest: z.object({
    runner: z.object({
      memory: z
        .object({ maxInputRecordBytes: count.optional(), budgetMb: count.optional() })
        .optional(),
    }),
    storage: z.object({ inspect: z.object({ zip: z.object({ maxEntries: count }) }) }),
    limits: z.object({ maxMetadataKeys: count, maxArrayItems: count, maxAttachments: count }),
  }),
});

/**
 * The ingest stage's bounds as its configuration sets them (config files plus
 * `GRANTSTREAM__` overrides in `env`), so hostile inputs are sized against
 * what the stage under test enforces rather than against literals.
 */
export function hostileLimits(env: Readonly<Record<string, string | undefined>>): HostileLimits {
  const c = loadConfig({ schema: hostileConfigSchema, files: [DEFAULT_CONFIG_FILE], env });
  return {
    maxMetadataKeys: c.ingest.limits.maxMetadataKeys,
    maxArrayItems: c.ingest.limits.maxArrayItems,
    maxAttachments: c.ingest.limits.maxAttachments,
    zipMaxEntries: c.ingest.storage.inspect.zip.maxEntries,
    decodeMaxItems: c.registry.decodeLimits.maxItems,
    decodeMaxDepth: c.registry.decodeLimits.maxDepth,
    maxInputRecordBytes:
      c.ingest.runner.memory?.maxInputRecordBytes ?? c.runner.memory.maxInputRecordBytes,
    maxRecordBytes: c.runner.maxRecordBytes,
    memoryBudgetBytes: (c.ingest.runner.memory?.budgetMb ?? c.runner.memory.budgetMb) * 1024 * 1024,
  };
}
