// The one way every browser test (test/browser, test/e2e) starts Chromium: the system's, found by
// locateChromium (CHROMIUM_PATH, /usr/bin/chromium, other known places), never a downloaded one.
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, INSTALL_HINT, locateChromium } from './chromium-path.mjs';

/** Launch the located Chromium headless; rejects with the install hint when there is none. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = locateChromium();
  if (executablePath === undefined) throw new Error(INSTALL_HINT);
  return chromium.launch({ executablePath, headless: true, timeout: 30_000, args: [...CHROMIUM_ARGS] });
}
