import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceAgainst } from './support/conformance';

const dir = mkdtempSync(join(tmpdir(), 'ds-conformance-'));
runConformanceAgainst({
  name: 'sqlite',
  setting: `sqlite:${join(dir, 'sessions.db')}`,
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});
