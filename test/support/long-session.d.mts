import type { SessionEvent } from '@durable-session/core';
import type { SessionStore } from '@durable-session/server';
/** The events of a long chat: multi-agent turns, cancels and steers. */
export declare function longSessionEvents(turns: number, deltas: number, prefix?: string): SessionEvent[];
/** Create `sessionId` in `store` and write {@link longSessionEvents} into it; returns them. */
export declare function writeLongSession(store: SessionStore, sessionId: string, turns: number, deltas: number): Promise<SessionEvent[]>;
