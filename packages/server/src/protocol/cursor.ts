/** Cursor intervals are counted from this instant (PROTOCOL.md §10.1). */
const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
const INTERVAL_MS = 20_000;

/**
 * The `Stream-Cursor` of a live response: the current 20-second interval number, and
 * always strictly greater than the cursor the client echoed (with 1..3600 s of jitter)
 * so CDN cache keys never cycle.
 */
export function nextCursor(clientCursor: string | null, now: number = Date.now()): string {
  const current = Math.floor((now - CURSOR_EPOCH_MS) / INTERVAL_MS);
  const echoed = clientCursor !== null && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : undefined;
  if (echoed === undefined || echoed < current) return String(current);
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(echoed + Math.max(1, Math.ceil(jitterSeconds / (INTERVAL_MS / 1000))));
}
