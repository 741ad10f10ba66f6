import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConsoleUsersFileError } from '@grantstream/errors';
import { parsePasswordHash } from './password';
import { ROLES } from './roles';

const userSchema = z.strictObject({
  username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only'),
  role: z.enum(ROLES),
  passwordHash: z
    .string()
    .refine((h) => parsePasswordHash(h) !== null, 'not a scrypt hash from hash-password'),
});

/** One local user: name, role and password hash (never the password). */
export type LocalUser = z.infer<typeof userSchema>;

/**
 * Reads the local users file. Throws {@link ConsoleUsersFileError} listing
 * every problem (unreadable, not JSON, a bad entry, a name twice): the
 * console refuses to start rather than start with the wrong users.
 */
export function readUsersFile(path: string): LocalUser[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConsoleUsersFileError(`console users file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = z.array(userSchema).safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConsoleUsersFileError(`console users file ${path}: ${problems.join('; ')}`, {
      metadata: { path, problems },
    });
  }
  const seen = new Set<string>();
  for (const u of parsed.data) {
    if (seen.has(u.username)) {
      throw new ConsoleUsersFileError(`console users file ${path}: ${u.username} listed twice`);
    }
    seen.add(u.username);
  }
  return parsed.data;
}
