import { SessionServerError } from '../errors';
import { utf8 } from './responses';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The messages of a JSON-mode body: their values and their stored (UTF-8 JSON text) form. */
export interface JsonMessages {
  values: unknown[];
  entries: Uint8Array[];
}

/**
 * Parse a JSON-mode body (PROTOCOL.md §9.1): a top-level array is flattened one level
 * (each element is a message), any other value is one message. An empty array is
 * refused on append (`allowEmptyArray: false`) and means "no messages" on create.
 */
export function parseJsonMessages(body: Uint8Array, options: { allowEmptyArray: boolean }): JsonMessages {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch (error) {
    throw new SessionServerError('invalid-json', `the body is not valid JSON: ${describe(error)}`, { cause: error });
  }
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  if (Array.isArray(value) && values.length === 0 && !options.allowEmptyArray) {
    throw new SessionServerError('invalid-json', 'an empty JSON array appends nothing');
  }
  try {
    return { values, entries: values.map((v) => utf8(JSON.stringify(v))) };
  } catch (error) {
    throw new SessionServerError('invalid-json', `the JSON body cannot be stored: ${describe(error)}`, { cause: error });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
