/**
 * A stream's expiry, as every store keeps it: an absolute deadline and a sliding time-to-live
 * (reset by activity). `null` and `undefined` both mean "none".
 * @example
 * hasExpired({ expiresAtMs: null, ttlSeconds: 60, lastAccessMs: Date.now() - 61_000 }, Date.now()); // true
 */
export interface Expiry {
  expiresAtMs: number | null | undefined;
  ttlSeconds: number | null | undefined;
  lastAccessMs: number;
}

/**
 * Whether a stream with this expiry has expired at `now` (ms): past its deadline, or idle for its whole TTL.
 * @example
 * if (hasExpired({ expiresAtMs: row.expires_at, ttlSeconds: row.ttl_seconds, lastAccessMs: row.last_access }, Date.now())) remove(row);
 */
export function hasExpired({ expiresAtMs, ttlSeconds, lastAccessMs }: Expiry, now: number): boolean {
  if (expiresAtMs !== null && expiresAtMs !== undefined && now >= expiresAtMs) return true;
  return ttlSeconds !== null && ttlSeconds !== undefined && now - lastAccessMs >= ttlSeconds * 1000;
}
