import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_CANDIDATES, chromiumPlan, INSTALL_HINT, locateChromium } from './support/chromium-path.mjs';

const only = (...paths: string[]) => (path: string): boolean => paths.includes(path);
const ensureScript = fileURLToPath(new URL('./support/ensure-chromium.mjs', import.meta.url));

describe('locateChromium', () => {
  it('prefers CHROMIUM_PATH over every known location', () => {
    expect(locateChromium({ CHROMIUM_PATH: '/opt/my/chrome' }, only('/opt/my/chrome', '/usr/bin/chromium'))).toBe('/opt/my/chrome');
  });

  it('fails loudly when CHROMIUM_PATH points at nothing, rather than silently using another browser', () => {
    expect(() => locateChromium({ CHROMIUM_PATH: '/nope/chrome' }, only('/usr/bin/chromium'))).toThrow(/CHROMIUM_PATH=\/nope\/chrome is not an executable/);
  });

  it('takes /usr/bin/chromium first, then the other known locations in order', () => {
    expect(CHROMIUM_CANDIDATES[0]).toBe('/usr/bin/chromium');
    expect(locateChromium({}, only('/usr/bin/chromium', '/usr/bin/google-chrome'))).toBe('/usr/bin/chromium');
    expect(locateChromium({}, only('/usr/bin/chromium-browser', '/usr/bin/google-chrome'))).toBe('/usr/bin/chromium-browser');
    expect(locateChromium({ CHROMIUM_PATH: '' }, only('/usr/bin/google-chrome'))).toBe('/usr/bin/google-chrome');
  });

  it('finds nothing on a machine without a browser', () => {
    expect(locateChromium({}, only())).toBeUndefined();
  });
});

describe('chromiumPlan', () => {
  it('uses the browser it finds', () => {
    expect(chromiumPlan({ env: {}, exists: only('/usr/bin/google-chrome-stable', '/usr/bin/apt-get'), isRoot: true })).toEqual({
      action: 'use',
      path: '/usr/bin/google-chrome-stable',
    });
  });

  it('installs Debian chromium only as root with apt-get', () => {
    expect(chromiumPlan({ env: {}, exists: only('/usr/bin/apt-get'), isRoot: true })).toEqual({ action: 'install' });
    expect(chromiumPlan({ env: {}, exists: only('/usr/bin/apt-get'), isRoot: false })).toEqual({ action: 'fail', message: INSTALL_HINT });
    expect(chromiumPlan({ env: {}, exists: only(), isRoot: true })).toEqual({ action: 'fail', message: INSTALL_HINT });
  });

  it('says in one line how to get a browser', () => {
    expect(INSTALL_HINT).not.toContain('\n');
    expect(INSTALL_HINT).toMatch(/apt-get install -y chromium/);
    expect(INSTALL_HINT).toMatch(/CHROMIUM_PATH/);
  });
});

describe('ensure-chromium.mjs (the first step of npm test)', () => {
  it('passes silently when a Chromium is there', () => {
    const run = spawnSync(process.execPath, [ensureScript], { env: { ...process.env, CHROMIUM_PATH: process.execPath }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout + run.stderr).toBe('');
  });

  it('stops at once with one line when CHROMIUM_PATH is wrong', () => {
    const run = spawnSync(process.execPath, [ensureScript], { env: { ...process.env, CHROMIUM_PATH: '/nope/chrome' }, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual(['CHROMIUM_PATH=/nope/chrome is not an executable file; unset it or point it at Chromium.']);
  });
});
