#!/usr/bin/env node
// The `durable-session-server` command. Committed (dist/ is not) so that npm links the bin at the
// first `npm install` of a fresh clone; it loads the built CLI, or says how to build it.
import('../dist/cli.js').catch((error) => {
  const missing = error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli.js');
  if (!missing) throw error;
  process.stderr.write('durable-session-server: the server package is not built yet (no dist/cli.js): run `npm run build` at the repository root first.\n');
  process.exitCode = 1;
});
