/**
 * Offsets are opaque to clients. Ours are `<instance>_<position>`: 16 characters naming
 * the stream's instance (a stream deleted and created again, or lost in a restart, gets a
 * new one) and the position in the stream (messages in JSON mode, bytes otherwise) as 16
 * zero-padded digits, so that one stream's offsets sort lexicographically in log order.
 * The zero offset (`0000000000000000_0000000000000000`) is position 0 of every stream;
 * instance prefixes never start with `0`, so every minted offset sorts after it.
 * This module is the only place offsets are made and read.
 */

/**
 * The offset before any data: position 0 of every stream, whatever its instance.
 * @example
 * await store.read(id, { from: ZERO_OFFSET });
 */
export const ZERO_OFFSET = '0000000000000000_0000000000000000';

/** The instance segment of {@link ZERO_OFFSET}. */
export const ZERO_INSTANCE = '0000000000000000';

/** The protocol's sentinel for "the beginning of the stream". */
export const BEGINNING = '-1';

/** The protocol's sentinel for "the current tail". */
export const NOW = 'now';

const OFFSET = /^([0-9a-z]{16})_(\d{16})$/;
const POSITION = /^\d{16}$/;
const INSTANCE = /^[1-9a-z][0-9a-z]{15}$/;
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A new, random instance id (16 characters of `[0-9a-z]`, never starting with `0`).
 * @example
 * const instance = newInstance(); // 'k3v9c0q1z8m2b7xa'
 */
export function newInstance(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  let out = ALPHABET[1 + ((bytes[0] as number) % 35)] as string;
  for (let i = 1; i < 16; i++) out += ALPHABET[(bytes[i] as number) % 36];
  return out;
}

/**
 * Whether a string can be the instance segment of an offset this server mints.
 * @example
 * isInstance(newInstance()); // true
 */
export function isInstance(value: string): boolean {
  return INSTANCE.test(value);
}

let lastInstance = '';

/**
 * The offset of a position in one instance of a stream.
 * @example
 * formatOffset('k3v9c0q1z8m2b7xa', 3); // 'k3v9c0q1z8m2b7xa_0000000000000003'
 */
export function formatOffset(instance: string, position: number): string {
  if (instance !== lastInstance) {
    if (!INSTANCE.test(instance)) throw new RangeError(`not an instance id: ${instance}`);
    lastInstance = instance; // a stream formats many offsets in a row: its instance is checked once
  }
  return `${instance}_${String(position).padStart(16, '0')}`;
}

/**
 * The instance and position of an offset, or `undefined` when the string is not one
 * (sentinels included). {@link ZERO_OFFSET} parses as `{ instance: ZERO_INSTANCE, position: 0 }`.
 * Positions past `Number.MAX_SAFE_INTEGER` come back as a number larger than any tail.
 * @example
 * parseOffset('k3v9c0q1z8m2b7xa_0000000000000003'); // { instance: 'k3v9c0q1z8m2b7xa', position: 3 }
 * parseOffset('abc'); // undefined
 */
export function parseOffset(offset: string): { instance: string; position: number } | undefined {
  const match = OFFSET.exec(offset);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  const instance = match[1];
  const position = Number(match[2]);
  if (instance === ZERO_INSTANCE) return position === 0 ? { instance, position } : undefined;
  return INSTANCE.test(instance) ? { instance, position } : undefined;
}

/**
 * The position of `offset` in the stream instance `instance` (also accepting the offsets of
 * `ancestors`, the instances a fork inherited from, up to where each was cut):
 * a number, `'foreign'` for a well-formed offset of another instance (answer 410 `gone`),
 * or `undefined` for a malformed one.
 * @example
 * positionIn('k3v9c0q1z8m2b7xa_0000000000000003', 'k3v9c0q1z8m2b7xa'); // 3
 * positionIn(ZERO_OFFSET, 'k3v9c0q1z8m2b7xa'); // 0
 */
export function positionIn(
  offset: string,
  instance: string,
  ancestors: readonly { instance: string; upTo: number }[] = [],
): number | 'foreign' | undefined {
  // Nearly always an offset of this very instance: its digits are all there is to read.
  if (offset.length === instance.length + 17 && offset.charCodeAt(instance.length) === 95 /* _ */ && offset.startsWith(instance)) {
    const digits = offset.slice(instance.length + 1);
    if (POSITION.test(digits)) return Number(digits);
  }
  const parsed = parseOffset(offset);
  if (parsed === undefined) return undefined;
  if (parsed.instance === ZERO_INSTANCE || parsed.instance === instance) return parsed.position;
  const ancestor = ancestors.find((a) => a.instance === parsed.instance);
  return ancestor !== undefined && parsed.position <= ancestor.upTo ? parsed.position : 'foreign';
}

/**
 * Whether a string is an offset this server accepts in a read (`-1`, `now` or a minted offset).
 * @example
 * isReadableOffset('now'); // true
 */
export function isReadableOffset(offset: string): boolean {
  return offset === BEGINNING || offset === NOW || parseOffset(offset) !== undefined;
}

/**
 * The offsets of one stream instance, as {@link formatOffset} makes them, with the instance
 * checked once rather than per offset (a read formats two offsets per entry).
 * @example
 * const at = offsetsOf('k3v9c0q1z8m2b7xa');
 * at(3); // 'k3v9c0q1z8m2b7xa_0000000000000003'
 */
export function offsetsOf(instance: string): (position: number) => string {
  formatOffset(instance, 0); // throws on what is not an instance id
  const prefix = `${instance}_`;
  return (position) => prefix + String(position).padStart(16, '0');
}
