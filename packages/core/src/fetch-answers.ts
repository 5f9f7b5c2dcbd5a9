import { DurableSessionError } from './errors';
import { environment } from './environment';
import { openDatabase, requested, storeRequest } from './persistence';
import { DURABLE_FETCH_HEADERS } from './protocol';

/**
 * The IndexedDB database where `durableFetch` keeps in-flight answers (for re-attaching after a reload).
 * @example
 * indexedDB.deleteDatabase(FETCH_DB_NAME); // e.g. on logout
 */
export const FETCH_DB_NAME = 'durable-session-fetch';
const STORE = 'answers';

/** A durable answer, as kept in IndexedDB under its absolute `resumeUrl`. */
export interface Answer {
  sessionId: string;
  turnId: string;
  offset: string;
  streamUrl: string;
  resumeUrl: string | undefined;
  status: number;
  statusText: string;
  headers: [string, string][];
}

// Pure annotation: importing the package without durableFetch must keep none of this.
const memory = /* @__PURE__ */ new Map<string, Answer>();

/** The answer a durable response describes (its headers), or `undefined` for any other response. */
export function answerOf(response: Response, url: string): Answer | undefined {
  const header = (name: string): string | undefined => response.headers.get(name) ?? undefined;
  const [sessionId, turnId, offset, stream, resume] = Object.values(DURABLE_FETCH_HEADERS).map(header);
  if (!sessionId || !turnId || !offset || !stream || !response.body) return undefined;
  const at = response.url || url;
  return {
    sessionId,
    turnId,
    offset,
    streamUrl: new URL(stream, at).href,
    resumeUrl: resume && new URL(resume, at).href,
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
  };
}

/** A response for `answer` with `body`, reporting `url` as its URL. */
export function respond(answer: Answer, body: ReadableStream<Uint8Array>, url: string): Response {
  const response = new Response(body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/** Where in-flight answers are kept, by resume URL. */
export interface AnswerStore {
  save(answer: Answer): Promise<void>;
  load(url: string): Promise<Answer | undefined>;
  /** Forget `answer`, unless a newer answer took its resume URL. */
  forget(answer: Answer): Promise<void> | undefined;
}

/**
 * The in-flight answers: in IndexedDB (opened with the client's one policy: timeout, blocked
 * handling) or, without it or when it fails (reported once per failure), in memory.
 * @example
 * const answers = answerStore('indexeddb', console.error);
 */
export function answerStore(persistence: 'indexeddb' | 'memory' | undefined, report: (error: DurableSessionError) => void): AnswerStore {
  let opening: Promise<IDBDatabase | undefined> | undefined;
  const withDatabase = async <T>(operation: (database: IDBDatabase) => Promise<T>, inMemory: () => T): Promise<T> => {
    opening ??=
      persistence === 'memory' || !environment.indexedDB()
        ? Promise.resolve(undefined)
        : openDatabase(FETCH_DB_NAME, 1, (upgrade) => void upgrade.createObjectStore(STORE)).catch((error: unknown) => {
            report(new DurableSessionError('persistence', 'IndexedDB is unavailable: in-flight answers are kept in memory', { cause: error }));
            return undefined;
          });
    const database = await opening;
    if (database)
      try {
        return await operation(database);
      } catch (error) {
        report(new DurableSessionError('persistence', 'IndexedDB failed: using memory', { cause: error }));
      }
    return inMemory();
  };
  return {
    save: (answer) =>
      withDatabase(
        async (database) => void (await storeRequest(database, STORE, 'readwrite', (store) => store.put(answer, answer.resumeUrl))),
        () => void memory.set(answer.resumeUrl!, answer),
      ),
    load: (url) =>
      withDatabase(
        (database) => storeRequest(database, STORE, 'readonly', (store) => store.get(url)) as Promise<Answer | undefined>,
        () => memory.get(url),
      ).then((answer) => (typeof answer?.streamUrl === 'string' && Array.isArray(answer.headers) ? answer : undefined)),
    forget: (answer) => {
      const key = answer.resumeUrl;
      if (key === undefined) return undefined;
      return withDatabase(
        async (database) => {
          const transaction = database.transaction(STORE, 'readwrite');
          const done = new Promise((resolve, reject) => {
            transaction.oncomplete = resolve;
            transaction.onerror = transaction.onabort = () => reject(transaction.error);
          });
          const store = transaction.objectStore(STORE);
          if (((await requested(store.get(key))) as Answer | undefined)?.turnId === answer.turnId) store.delete(key);
          await done;
        },
        () => void (memory.get(key)?.turnId === answer.turnId && memory.delete(key)),
      );
    },
  };
}
