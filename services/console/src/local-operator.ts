import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hashPassword } from './auth/password';
import { readUsersFile } from './auth/users-file';
import { loadConsoleConfig } from './console.config';

// The user a local run signs in as: it may do everything, redrive included.
const LOCAL_OPERATOR = 'operator';

/*
 * The local run's users file: `tsx services/console/src/local-operator.ts <file>`.
 * When the file does not exist it is created (mode 0600) with one user,
 * `operator`, whose password is drawn at random and printed on stdout, once:
 * only its scrypt hash is kept. An existing file is checked and left alone
 * (the password was printed when it was made; delete the file for a new
 * one). stdout is one JSON line: { usersFile, username, password? }.
 */
async function main(): Promise<void> {
  const [file] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: local-operator <users file>\n');
    process.exit(2);
  }
  const config = loadConsoleConfig(process.env);
  if (existsSync(file)) {
    readUsersFile(file);
    process.stdout.write(`${JSON.stringify({ usersFile: file, username: LOCAL_OPERATOR })}\n`);
    return;
  }
  // As strong as a session token: both open the same doors.
  const password = randomBytes(config.console.session.tokenBytes).toString('base64url');
  const passwordHash = await hashPassword(password, config.console.scrypt);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(
    file,
    `${JSON.stringify([{ username: LOCAL_OPERATOR, role: 'operator', passwordHash }], null, 2)}\n`,
    { mode: 0o600, flag: 'wx' },
  );
  process.stdout.write(
    `${JSON.stringify({ usersFile: file, username: LOCAL_OPERATOR, password })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `local-operator failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
