import { describe, expect, it, vi } from 'vitest';
import { SessionServerError } from './errors';
import { responseForError } from './protocol/responses';

describe('SessionServerError.isInstance', () => {
  it('recognises errors of another copy of the package, where instanceof does not', async () => {
    vi.resetModules();
    const copy = await import('./errors');
    const foreign = new copy.SessionServerError('forbidden', 'not yours');
    expect(foreign instanceof SessionServerError).toBe(false);
    expect(SessionServerError.isInstance(foreign)).toBe(true);
    expect(SessionServerError.isInstance(new Error('x'))).toBe(false);
    expect(SessionServerError.isInstance({ code: 'forbidden' })).toBe(false);
    // An authorize hook bundled with its own copy still gets its 403, not a 500.
    expect(responseForError(foreign).status).toBe(403);
  });
});
