/**
 * The default `onError` of every server part (handler, host, `listen`, `durableResponse`):
 * `console.error` with the package's prefix.
 * @example
 * const onError = options.onError ?? reportToConsole;
 */
export const reportToConsole = (error: unknown): void => console.error('[durable-session-server]', error);
