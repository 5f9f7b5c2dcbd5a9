import { randomUUID } from 'node:crypto';
import { runSnapshotContract, runStoreContract } from '@durable-session/server/testing';
import { deleteKeys, REDIS_URL } from '../../../test/support/redis';
import { redisStore } from './redis-store';


// Every test gets its own key prefix: its stores share it (two nodes), nobody else does.
runStoreContract('redisStore', () => {
  const prefix = `test:${randomUUID()}:`;
  return {
    open: (options) => redisStore({ url: REDIS_URL, prefix, ...options }),
    dispose: () => deleteKeys(prefix),
  };
});

runSnapshotContract('redisStore', () => {
  const prefix = `test:${randomUUID()}:`;
  return {
    open: (options) => redisStore({ url: REDIS_URL, prefix, ...options }),
    dispose: () => deleteKeys(prefix),
  };
});
