import { hashPassword, type ScryptCost } from '../auth/password';
import type { Role } from '../auth/roles';
import type { LocalUser } from '../auth/users-file';
import type { ConsoleSection } from '../console.config';

/** The ports the console's tests listen on. */
export const TEST_PORTS = { first: 47000, last: 47999 } as const;

/** A cheap scrypt cost: tests sign in often; production's cost is in config/grantstream.yaml. */
export const TEST_SCRYPT: ScryptCost = {
  cost: 1024,
  blockSize: 8,
  parallelization: 1,
  keyBytes: 32,
  saltBytes: 16,
  maxMemoryBytes: 16 * 1024 * 1024,
};

/** One user per role, each with the password `<name>-password`. */
export async function testUsers(): Promise<{
  users: LocalUser[];
  password: (name: string) => string;
}> {
  const roles: [string, Role][] = [
    ['vera', 'viewer'],
    ['aude', 'auditor'],
    ['otto', 'operator'],
  ];
  const users = await Promise.all(
    roles.map(async ([username, role]) => ({
      username,
      role,
      passwordHash: await hashPassword(`${username}-password`, TEST_SCRYPT),
    })),
  );
  return { users, password: (name: string) => `${name}-password` };
}

/** The console section of a test: loopback, a port of the test range, cheap hashes, the given read model. */
export function testConsoleSection(
  readModel: ConsoleSection['readModel'],
  port: number,
  usersFile = '/nonexistent/users.json',
): ConsoleSection {
  return {
    host: '127.0.0.1',
    port,
    usersFile,
    scrypt: TEST_SCRYPT,
    session: {
      cookieName: 'gs_console_test',
      ttlMs: 600_000,
      maxSessions: 100,
      secureCookie: false,
      tokenBytes: 32,
    },
    maxBodyBytes: 65_536,
    pageSize: 50,
    maxHexBytes: 256,
    redrive: { transactionalId: `grantstream.console.test.${port}`, maxSetSize: 20 },
    readModel,
    pipeline: { refreshMs: 500, probeTimeoutMs: 500, replicas: {} },
    funders: { defaultBufferBusinessDays: 3, passedDeadlineWindowMs: 604_800_000, maxAtRisk: 50 },
    charts: { sampleIntervalMs: 500, maxSamples: 10 },
  };
}

/**
 * Calls `start(port)` with ports of {@link TEST_PORTS} from a random one on
 * until one is free: several test files and other checkouts may hold some.
 */
export async function inTestPortRange<T>(start: (port: number) => Promise<T>): Promise<T> {
  const span = TEST_PORTS.last - TEST_PORTS.first + 1;
  const offset = Math.floor(Math.random() * span);
  let last: unknown;
  for (let i = 0; i < span; i += 1) {
    const port = TEST_PORTS.first + ((offset + i) % span);
    try {
      return await start(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error('no free port in the console test range');
}
