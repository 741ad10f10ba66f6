import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureChromium } from '@grantstream/testing';

/** Flags that keep Chromium off the network: this machine's network is closed. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The README's picture of a grant page: a laptop's screen, not the whole page. */
export const README_VIEWPORT = { width: 1280, height: 800 };

/**
 * Debian's headless Chromium (installed by ensureChromium when missing) with
 * a profile of the caller's, so cookies of one scenario never leak into another.
 */
export async function launchChromium(
  profileDir: string,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  const executablePath = await ensureChromium();
  return chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
}

/** Signs in on the console's sign-in page the page is showing, and waits to leave it. */
export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname !== '/sign-in');
}
