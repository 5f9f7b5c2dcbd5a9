// `npm test` runs this first: find a Chromium for the browser tests, install Debian's when this
// machine allows it (root + apt-get), or stop at once with one line saying how.
import { spawnSync } from 'node:child_process';
import { chromiumPlan, INSTALL_HINT, locateChromium } from './chromium-path.mjs';

function aptInstall() {
  process.stdout.write('No Chromium found: installing Debian\'s `chromium` with apt-get (once)...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'chromium']]) {
    const run = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) return false;
  }
  return true;
}

let plan;
try {
  plan = chromiumPlan();
} catch (error) {
  plan = { action: 'fail', message: error instanceof Error ? error.message : String(error) };
}
if (plan.action === 'install') {
  const aptDone = aptInstall();
  const installed = aptDone ? locateChromium() : undefined;
  if (installed) plan = { action: 'use', path: installed };
  else if (aptDone) plan = { action: 'fail', message: `apt-get installed chromium, yet no Chromium is at /usr/bin/chromium or the other known places: set CHROMIUM_PATH.` };
  else plan = { action: 'fail', message: `apt-get could not install chromium (see above). ${INSTALL_HINT}` };
}
if (plan.action === 'fail') {
  process.stderr.write(`${plan.message}\n`);
  process.exit(1);
}
