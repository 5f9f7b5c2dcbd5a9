import { randomUUID } from 'node:crypto';
import { runConformanceAgainst } from './support/conformance';
import { deleteKeys, REDIS_URL } from './support/redis';

// A real Redis at REDIS_URL, under a key prefix of its own.
const prefix = `conformance:${randomUUID()}:`;
runConformanceAgainst({ name: 'redis', setting: `${REDIS_URL.replace(/\/+$/, '')}?prefix=${prefix}`, cleanup: () => deleteKeys(prefix) });
