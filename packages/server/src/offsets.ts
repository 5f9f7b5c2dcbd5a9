/**
 * Offsets are opaque to clients. Ours are `<16 digits>_<16 digits>`: a fixed zero
 * segment and the position in the stream (messages in JSON mode, bytes otherwise),
 * both zero-padded so that offsets sort lexicographically in log order.
 */

/**
 * The offset before any data: where every stream starts.
 * @example
 * await store.read(id, { from: ZERO_OFFSET });
 */
export const ZERO_OFFSET = '0000000000000000_0000000000000000';

/** The protocol's sentinel for "the beginning of the stream". */
export const BEGINNING = '-1';

/** The protocol's sentinel for "the current tail". */
export const NOW = 'now';

const OFFSET = /^0{16}_(\d{16})$/;

/**
 * The offset of a position.
 * @example
 * formatOffset(3); // '0000000000000000_0000000000000003'
 */
export function formatOffset(position: number): string {
  return `0000000000000000_${String(position).padStart(16, '0')}`;
}

/**
 * The position of an offset this server minted, or `undefined` when the string is
 * not one (sentinels included). Positions past `Number.MAX_SAFE_INTEGER` come back
 * as a number larger than any tail.
 * @example
 * parseOffset('0000000000000000_0000000000000003'); // 3
 * parseOffset('abc'); // undefined
 */
export function parseOffset(offset: string): number | undefined {
  const match = OFFSET.exec(offset);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Whether a string is an offset this server accepts in a read (`-1`, `now` or a minted offset).
 * @example
 * isReadableOffset('now'); // true
 */
export function isReadableOffset(offset: string): boolean {
  return offset === BEGINNING || offset === NOW || parseOffset(offset) !== undefined;
}
