import { createInterface } from 'node:readline';
import { hashPassword } from './auth/password';
import { loadConsoleConfig } from './console.config';

/*
 * Prints a users-file entry for one user: `tsx services/console/src/hash-password.ts <username> <role>`,
 * the password read from standard input (one line), never from the command line.
 */
async function main(): Promise<void> {
  const [username, role] = process.argv.slice(2);
  if (!username || !role) {
    process.stderr.write('usage: hash-password <username> <viewer|auditor|operator> < password\n');
    process.exit(2);
  }
  const config = loadConsoleConfig(process.env);
  const lines = createInterface({ input: process.stdin });
  let password = '';
  for await (const line of lines) {
    password = line;
    break;
  }
  lines.close();
  const passwordHash = await hashPassword(password, config.console.scrypt);
  process.stdout.write(`${JSON.stringify({ username, role, passwordHash })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `hash-password failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
