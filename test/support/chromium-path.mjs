// Where the browser tests find Chromium, and what to do when there is none. Plain ESM so that
// `npm test` can run it (ensure-chromium.mjs) before anything is built; types in chromium-path.d.mts.
import { accessSync, constants } from 'node:fs';

/** Checked in order after `CHROMIUM_PATH`: Debian/Ubuntu, Fedora, snap, Google Chrome, macOS. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/snap/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Headless and quiet: no sandbox (root in CI), no GPU, no QUIC, no background traffic, no first-run UI. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The one line printed when no browser is found and none can be installed. */
export const INSTALL_HINT =
  'No Chromium for the browser tests: install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH to a Chromium or Chrome executable.';

/** Is `path` an executable file? */
export function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium to launch: `CHROMIUM_PATH` when set (an error if it is not executable, never a
 * silent fallback), else the first executable of `CHROMIUM_CANDIDATES`, else `undefined`.
 */
export function locateChromium(env = process.env, exists = isExecutable) {
  const explicit = env.CHROMIUM_PATH;
  if (explicit !== undefined && explicit !== '') {
    if (exists(explicit)) return explicit;
    throw new Error(`CHROMIUM_PATH=${explicit} is not an executable file; unset it or point it at Chromium.`);
  }
  return CHROMIUM_CANDIDATES.find((path) => exists(path));
}

/**
 * What `npm test` does before the browser tests: use the Chromium it finds, install Debian's
 * `chromium` when it may (root, apt-get present, `CHROMIUM_PATH` unset), or fail with one line.
 */
export function chromiumPlan({ env = process.env, exists = isExecutable, isRoot = process.getuid?.() === 0 } = {}) {
  const found = locateChromium(env, exists);
  if (found !== undefined) return { action: 'use', path: found };
  if (isRoot && exists('/usr/bin/apt-get')) return { action: 'install' };
  return { action: 'fail', message: INSTALL_HINT };
}
