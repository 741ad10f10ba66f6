import { describe, expect, it } from 'vitest';
import { ChromiumUnavailableError, ensureChromium, type ChromiumHost } from './chromium';

const SETTINGS = {
  executablePath: '/usr/bin/chromium',
  package: 'chromium',
  installTimeoutMs: 5000,
};

function host(overrides: Partial<ChromiumHost> & { installs?: boolean } = {}): {
  host: ChromiumHost;
  runs: string[];
} {
  const runs: string[] = [];
  let installed = false;
  const h: ChromiumHost = {
    isExecutable: () => installed,
    isRoot: () => true,
    which: (c) => `/usr/bin/${c}`,
    run: (command, args) => {
      runs.push([command, ...args].join(' '));
      if (args[0] === 'install' && overrides.installs !== false) installed = true;
      return Promise.resolve();
    },
    ...overrides,
  };
  return { host: h, runs };
}

describe('ensureChromium', () => {
  it('returns the path and runs nothing when Chromium is already there', async () => {
    const { host: h, runs } = host({ isExecutable: () => true });
    await expect(ensureChromium(SETTINGS, h)).resolves.toBe('/usr/bin/chromium');
    expect(runs).toEqual([]);
  });

  it('installs the package with apt-get as root when it is missing', async () => {
    const { host: h, runs } = host();
    await expect(ensureChromium(SETTINGS, h)).resolves.toBe('/usr/bin/chromium');
    expect(runs).toEqual([
      '/usr/bin/apt-get update',
      '/usr/bin/apt-get install -y --no-install-recommends chromium',
    ]);
  });

  it('refuses, naming the command, when not root', async () => {
    const { host: h, runs } = host({ isRoot: () => false });
    const err = await ensureChromium(SETTINGS, h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChromiumUnavailableError);
    expect((err as Error).message).toContain(
      'run as root: apt-get update && apt-get install -y --no-install-recommends chromium',
    );
    expect(runs).toEqual([]);
  });

  it('refuses, naming the command, when apt-get is missing', async () => {
    const { host: h } = host({ which: () => null });
    await expect(ensureChromium(SETTINGS, h)).rejects.toThrow(
      /apt-get is not available here.*apt-get install -y --no-install-recommends chromium/,
    );
  });

  it('reports a failed or timed-out install and an install without the executable', async () => {
    const failing = host({ run: () => Promise.reject(new Error('killed after 5000 ms')) }).host;
    await expect(ensureChromium(SETTINGS, failing)).rejects.toThrow(ChromiumUnavailableError);
    const empty = host({ installs: false }).host;
    await expect(ensureChromium(SETTINGS, empty)).rejects.toThrow(/still missing/);
  });
});
