/**
 * A real headless browser for tests of the box's status page and the hub's dashboard:
 * Debian's chromium (setup.sh installs it) driven by playwright-core. Every page opened
 * through `openPage` records console errors and failed requests, so a test can require none.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HarnessError } from './harness-error.ts';
import { ROOT } from './node-process.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser binary: OUTPOST_CHROMIUM, else the first of the usual paths that exists. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env['OUTPOST_CHROMIUM'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new HarnessError('no chromium found (bash setup.sh installs Debian\'s chromium; or set OUTPOST_CHROMIUM)');
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught page errors and failed requests seen so far. */
  problems: string[];
}

/** A new page (phone-sized when `mobile`) that records what went wrong on it. */
export async function openPage(browser: Browser, options: { mobile?: boolean } = {}): Promise<WatchedPage> {
  const context = await browser.newContext(options.mobile ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true } : { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { page, problems };
}

/**
 * Where a test writes the screenshot `name` (e.g. `dashboard.png`): docs/img/ when
 * OUTPOST_UPDATE_SCREENSHOTS=1 (to refresh the pictures in the docs), else a temporary
 * folder, so that a test run leaves the checkout unchanged.
 */
export function screenshotPath(name: string): string {
  if (process.env['OUTPOST_UPDATE_SCREENSHOTS'] === '1') return join(ROOT, 'docs/img', name);
  return join(mkdtempSync(join(tmpdir(), 'outpost-shot-')), name);
}
