import { SessionServerError } from '../errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse a JSON-mode body (PROTOCOL.md §9.1) into its messages: a top-level array is
 * flattened one level (each element is a message), any other value is one message. An
 * empty array is refused on append (`allowEmptyArray: false`) and means "no messages" on create.
 */
export function parseJsonMessages(body: Uint8Array, options: { allowEmptyArray: boolean }): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new SessionServerError('invalid-json', `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  if (Array.isArray(value) && values.length === 0 && !options.allowEmptyArray) {
    throw new SessionServerError('invalid-json', 'an empty JSON array appends nothing');
  }
  return values;
}
