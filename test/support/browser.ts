/**
 * Chromium for the browser tests: Debian's (installed by `.ci/run`), driven by playwright-core.
 * A missing browser fails the test with how to install it, never skips it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);

/** The Chromium executable, or a clear error naming where it looked. */
export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`Chromium is needed for the browser test and was not found (looked at ${CANDIDATES.join(', ')}). Install it: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  return found;
}

/** A headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}
