import { describe, expect, it } from 'vitest';
import { memoryStore } from './memory-store';
import { openStore, StoreLoadError } from './store-loader';

describe('openStore', () => {
  it('answers undefined for memory (the server makes its own) and loads a store package by name', async () => {
    expect(await openStore({ kind: 'memory' })).toBeUndefined();
    const asked: string[] = [];
    const made = memoryStore();
    const store = await openStore({ kind: 'sqlite', path: '/tmp/x.db' }, async (name) => {
      asked.push(name);
      return { sqliteStore: (options: { path: string }) => (options.path === '/tmp/x.db' ? made : undefined) };
    });
    expect(asked).toEqual(['@durable-session/sqlite']);
    expect(store).toBe(made);
    await made.close();
  });

  it('says which package to install when the store package is missing or does not fit', async () => {
    const missing = async (): Promise<never> => {
      throw Object.assign(new Error("Cannot find package '@durable-session/redis'"), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    const attempt = openStore({ kind: 'redis', url: 'redis://127.0.0.1:6379' }, missing);
    await expect(attempt).rejects.toBeInstanceOf(StoreLoadError);
    await expect(attempt).rejects.toMatchObject({ code: 'store-not-installed', message: expect.stringContaining('npm install @durable-session/redis') });
    await expect(openStore({ kind: 'redis', url: 'redis://x:1' }, async () => ({}))).rejects.toMatchObject({ code: 'store-not-installed' });
    const broken = async (): Promise<never> => {
      throw Object.assign(new Error("Cannot find module '/x/node_modules/ioredis/built/index.js'"), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    await expect(openStore({ kind: 'redis', url: 'redis://x:1' }, broken)).rejects.toMatchObject({
      code: 'store-load-failed',
      message: expect.stringContaining('ioredis'),
    });
  });
});
