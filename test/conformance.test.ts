import { runConformanceAgainst } from './support/conformance';

// The embedded default. The Redis and SQLite runs are conformance-redis/-sqlite.test.ts (run in parallel).
runConformanceAgainst({ name: 'memory', setting: 'memory', cleanup: async () => undefined });
