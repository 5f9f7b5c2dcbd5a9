// @vitest-environment happy-dom
/**
 * The Vercel AI SDK (ai 6 + @ai-sdk/react 3) over durableFetch/durableResponse: a `streamText`
 * route on a mock model wrapped by `durableResponse`, served by node:http on 127.0.0.1 behind
 * the fault proxy, and `useChat` with `new DefaultChatTransport({ api, fetch: durableFetch })`
 * rendered in happy-dom (whose own fetch, CORS included, is the one underneath).
 *
 * The mock model writes half of its answer, then waits for the test to `release` it: every
 * cut, stop and reload happens mid-answer by construction, not by timing.
 */
import 'fake-indexeddb/auto';
import nodeConsole from 'node:console';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createElement, useMemo } from 'react';
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { useChat, type UseChatHelpers } from '@ai-sdk/react';
import { convertToModelMessages, DefaultChatTransport, simulateReadableStream, streamText, type UIMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { openDB } from 'idb';
import { createDurableFetch, FETCH_DB_NAME, type DurableFetchOptions, type DurableSessionError } from '@durable-session/core';
import { durableResponse } from '@durable-session/server';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { eventually, startFetchApp, type FetchApp } from './support/fetch-app';

const WORDS = Array.from({ length: 24 }, (_, i) => `word${i}${i % 5 === 0 ? ' é😀' : ''} `);
const FULL = WORDS.join('');

let app: FetchApp;
let proxy: FaultProxy;
const runs = new Map<string, { model: MockLanguageModelV3; release: () => void }>();
const hits = { post: 0, reconnect: 0 };
const errors: DurableSessionError[] = [];
const options: DurableFetchOptions = { reconnect: { initialDelayMs: 5, maxDelayMs: 50, maxAttempts: 100 }, onError: (e) => errors.push(e) };

/** Pipe `chunks` (paced by simulateReadableStream) into `controller`; `false` once `signal` aborted. */
async function pipe(chunks: LanguageModelV3StreamPart[], controller: ReadableStreamDefaultController<LanguageModelV3StreamPart>, signal: AbortSignal | undefined): Promise<boolean> {
  const reader = simulateReadableStream({ chunks, chunkDelayInMs: 3 }).getReader();
  for (;;) {
    if (signal?.aborted) return false;
    const { done, value } = await reader.read();
    if (done) return true;
    controller.enqueue(value);
  }
}

function modelFor(chatId: string): MockLanguageModelV3 {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const delta = (text: string): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't', delta: text });
  const model = new MockLanguageModelV3({
    doStream: async ({ abortSignal }) => ({
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        async start(controller) {
          const aborted = new Promise<boolean>((resolve) => abortSignal?.addEventListener('abort', () => resolve(false)));
          const ok =
            (await pipe([{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, ...WORDS.slice(0, 12).map(delta)], controller, abortSignal)) &&
            (await Promise.race([gate.then(() => true), aborted])) &&
            (await pipe(
              [
                ...WORDS.slice(12).map(delta),
                { type: 'text-end', id: 't' },
                {
                  type: 'finish',
                  finishReason: { unified: 'stop', raw: 'stop' },
                  usage: { inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 24, text: 24, reasoning: undefined } },
                },
              ],
              controller,
              abortSignal,
            ));
          if (ok) controller.close();
          else controller.error(abortSignal?.reason);
        },
      }),
    }),
  });
  runs.set(chatId, { model, release });
  return model;
}

const CORS = { 'access-control-allow-origin': '*' };

/**
 * happy-dom's fetch reports every network error on the page console, as a browser's devtools do.
 * The fault proxy resets connections on purpose, so those resets are expected here and not
 * printed; anything else still reaches the console.
 */
function quietExpectedResets(): void {
  const pageConsole = nodeConsole; // the page's console: Node's own, captured before vitest's
  const pageError = pageConsole.error.bind(pageConsole);
  vi.spyOn(pageConsole, 'error').mockImplementation((...args: unknown[]) => {
    if ((args[0] as NodeJS.ErrnoException | undefined)?.code !== 'ECONNRESET') pageError(...args);
  });
}

beforeAll(async () => {
  quietExpectedResets();
  app = await startFetchApp(async (request, sessions) => {
    const url = new URL(request.url);
    if (request.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: { ...CORS, 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'GET, POST' } });
    }
    // What useChat({ resume: true }) requests on mount. With durableFetch an in-flight answer is
    // answered from IndexedDB and never gets here; this route only says "nothing to resume".
    if (request.method === 'GET' && /^\/api\/chat\/[^/]+\/stream$/.test(url.pathname)) {
      hits.reconnect++;
      return new Response(null, { status: 204, headers: CORS });
    }
    if (request.method === 'POST' && url.pathname === '/api/chat') {
      hits.post++;
      const { id, messages } = (await request.json()) as { id: string; messages: UIMessage[] };
      const model = modelFor(id);
      const response = await durableResponse(
        sessions,
        async ({ signal }) => streamText({ model, messages: await convertToModelMessages(messages), abortSignal: signal }).toUIMessageStreamResponse(),
        { sessionId: id, resumeUrl: `/api/chat/${id}/stream` },
      );
      response.headers.set('access-control-allow-origin', '*');
      return response;
    }
    return new Response('not found', { status: 404, headers: CORS });
  });
  proxy = await startFaultProxy(app.url);
});
afterEach(() => {
  cleanup();
});
afterAll(async () => {
  for (const run of runs.values()) run.release();
  await proxy.close();
  await app.close();
  vi.restoreAllMocks(); // last: closing the proxy resets connections too
});

const views = new Map<string, UseChatHelpers<UIMessage>>();
function ChatView(props: { id: string; fetch: typeof fetch; messages?: UIMessage[]; resume?: boolean }) {
  const transport = useMemo(() => new DefaultChatTransport({ api: `${proxy.url}/api/chat`, fetch: props.fetch }), [props.fetch]);
  const chat = useChat({ id: props.id, messages: props.messages, resume: props.resume ?? false, transport });
  views.set(props.id, chat);
  return createElement('p', null, `${chat.status}: ${answerOf(chat.messages.at(-1))}`);
}
const view = (id: string): UseChatHelpers<UIMessage> => views.get(id)!;
const answerOf = (m: UIMessage | undefined): string =>
  m?.role === 'assistant' ? m.parts.map((p) => (p.type === 'text' ? p.text : '')).join('') : '';
const lastAnswer = (id: string): string => answerOf(view(id).messages.at(-1));
/** The message without its generated id. */
const shape = (m: UIMessage | undefined): unknown => m && { role: m.role, parts: m.parts };
async function until(condition: () => boolean): Promise<void> {
  await waitFor(
    () => {
      if (!condition()) throw new Error('not yet');
    },
    { timeout: 20_000, interval: 10 },
  );
}
async function send(id: string, text: string): Promise<void> {
  await act(async () => {
    void view(id).sendMessage({ text });
  });
}

describe('useChat over durableFetch', () => {
  it('(1) a cut connection mid-answer ends with the same final message as an uncut run', async () => {
    const durableFetch = createDurableFetch(options);
    render(createElement(ChatView, { id: 'uncut', fetch: durableFetch }));
    await send('uncut', 'Hello');
    await until(() => runs.has('uncut'));
    runs.get('uncut')!.release();
    await until(() => view('uncut').status === 'ready' && lastAnswer('uncut') === FULL);
    const reference = view('uncut').messages.at(-1);

    render(createElement(ChatView, { id: 'cut', fetch: durableFetch }));
    await send('cut', 'Hello');
    await until(() => lastAnswer('cut').length > 0);
    const accepted = proxy.accepted;
    expect(proxy.cut()).toBeGreaterThan(0); // the POST's response, mid-answer
    await until(() => proxy.accepted > accepted && proxy.cut() > 0); // the resumed read, too
    runs.get('cut')!.release();
    await until(() => view('cut').status === 'ready' && lastAnswer('cut') === FULL);

    expect(shape(view('cut').messages.at(-1))).toEqual(shape(reference));
    expect(view('cut').error).toBeUndefined();
    expect(runs.get('cut')!.model.doStreamCalls).toHaveLength(1); // the paid call ran once
    expect(errors).toEqual([]);
  });

  it('(2) stop() fires the model call abort signal and the session shows the turn cancelled', async () => {
    const durableFetch = createDurableFetch({ ...options, clientId: 'tab-1' });
    render(createElement(ChatView, { id: 'stop', fetch: durableFetch }));
    await send('stop', 'Tell me a long story');
    await until(() => lastAnswer('stop').length > 0);
    await act(async () => {
      await view('stop').stop();
    });

    const signal = runs.get('stop')!.model.doStreamCalls[0]!.abortSignal!;
    await eventually(() => (signal.aborted ? true : undefined));
    const events = await eventually(async () => {
      const list = await app.events('stop');
      return list.some((e) => e.type === 'turn.end') ? list : undefined;
    });
    expect(events).toContainEqual(expect.objectContaining({ type: 'cancel', clientId: 'tab-1' }));
    expect(events.filter((e) => e.type === 'turn.end')).toEqual([expect.objectContaining({ reason: 'cancelled' })]);
    await until(() => view('stop').status === 'ready');
    expect(lastAnswer('stop').length).toBeGreaterThan(0);
    expect(lastAnswer('stop')).not.toBe(FULL);
    expect(errors).toEqual([]);
  });

  it('(3) a reload re-attaches to the running answer from IndexedDB and ends with the full message', async () => {
    let unloaded = false;
    const page1: typeof fetch = (input, init) => (unloaded ? Promise.reject(new TypeError('Failed to fetch: the page was unloaded')) : fetch(input, init));
    const first = render(createElement(ChatView, { id: 'reload', fetch: createDurableFetch({ ...options, fetch: page1, reconnect: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 }, onError: () => {} }) }));
    await send('reload', 'Hello again');
    await until(() => lastAnswer('reload').length > 0);
    const userMessage = view('reload').messages[0]!;
    const postsBefore = hits.post;

    const db = await openDB(FETCH_DB_NAME);
    expect(await db.getAll('answers')).toEqual([expect.objectContaining({ sessionId: 'reload', resumeUrl: `${proxy.url}/api/chat/reload/stream` })]);

    // Reload: the page, its memory and its connections are gone; IndexedDB stays.
    first.unmount();
    views.delete('reload');
    unloaded = true;
    proxy.cut();

    render(createElement(ChatView, { id: 'reload', fetch: createDurableFetch(options), messages: [userMessage], resume: true }));
    await until(() => lastAnswer('reload').length > 0 && view('reload').status === 'streaming');
    runs.get('reload')!.release();
    await until(() => view('reload').status === 'ready' && lastAnswer('reload') === FULL);

    expect(view('reload').messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(hits.reconnect).toBe(0); // answered from the session, not by the route
    expect(hits.post).toBe(postsBefore); // no second POST, no second paid call
    expect(runs.get('reload')!.model.doStreamCalls).toHaveLength(1);
    await eventually(async () => ((await db.getAll('answers')).length === 0 ? true : undefined));
    db.close();
    expect(errors).toEqual([]);
  });

  it('(3b) after the answer ended, a reload finds nothing to resume (204) and renders no duplicate', async () => {
    const durableFetch = createDurableFetch(options);
    render(createElement(ChatView, { id: 'reload', fetch: durableFetch, resume: true }));
    await until(() => hits.reconnect === 1); // nothing stored: the route was asked, and answered 204
    await until(() => view('reload').status === 'ready');
    expect(view('reload').messages).toEqual([]);
  });
});
