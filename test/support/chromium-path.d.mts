/** Checked in order after `CHROMIUM_PATH`: Debian/Ubuntu, Fedora, snap, Google Chrome, macOS. */
export declare const CHROMIUM_CANDIDATES: readonly string[];
/** Launch flags: headless and quiet (no sandbox, GPU, QUIC, background traffic or first-run UI). */
export declare const CHROMIUM_ARGS: readonly string[];
/** The one line printed when no browser is found and none can be installed. */
export declare const INSTALL_HINT: string;
/** Is `path` an executable file? */
export declare function isExecutable(path: string): boolean;
/** `CHROMIUM_PATH` when set (throws if not executable), else the first executable candidate, else `undefined`. */
export declare function locateChromium(env?: NodeJS.ProcessEnv, exists?: (path: string) => boolean): string | undefined;
/** What to do before the browser tests run. */
export type ChromiumPlan = { action: 'use'; path: string } | { action: 'install' } | { action: 'fail'; message: string };
export declare function chromiumPlan(options?: {
  env?: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
  isRoot?: boolean;
}): ChromiumPlan;
