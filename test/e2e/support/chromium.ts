import type { Browser, BrowserContext } from 'playwright-core';

/** A fresh browser profile (its own IndexedDB, storage and network emulation): one "device". */
export function newDevice(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1100, height: 860 } });
}
