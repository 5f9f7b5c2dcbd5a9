export { sqliteStore, SqliteStoreError } from './sqlite-store';
export type { SqliteStoreOptions } from './sqlite-store';
