export { redisStore } from './redis-store';
export type { RedisStoreOptions } from './redis-store';
export { RedisStoreError } from './connection';
