import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (scripts/ensure-chromium.sh installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Fails at once, with what to do, when Chromium is not installed. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: scripts/ensure-chromium.sh installs it`);
  }
}

/**
 * A headless Chromium and one page that pushes into `errors` every page error, console error and
 * response of status 400 or more (a dashboard test ends by expecting none). No time limit of
 * Playwright's own: vitest's test timeout is the only one.
 */
export async function openDashboardPage(
  errors: string[],
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(0);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(m.text());
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400) {
      errors.push(`${r.status()} ${r.url()}`);
    }
  });
  return { browser, page };
}
