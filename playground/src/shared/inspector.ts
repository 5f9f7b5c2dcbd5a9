import type { AnySessionEvent, DurableSession } from '@durable-session/core';
import { shortOffset } from './view';

/** Where an applied event came from: the live stream, the first catch-up, or a catch-up after a drop. */
export type EventOrigin = 'live' | 'catch-up' | 'replayed';

/** One row of the inspector. */
export interface InspectedEvent {
  offset: string;
  type: string;
  /** The agent (or client) that wrote it. */
  writer: string;
  bytes: number;
  origin: EventOrigin | 'indexeddb';
}

/** Rows kept (oldest dropped first). */
const MAX_ROWS = 500;
const encoder = new TextEncoder();

/** The writer of an event: its agent id, else its client id. */
function writerOf(event: AnySessionEvent): string {
  const fields = event as { agentId?: unknown; clientId?: unknown };
  return typeof fields.agentId === 'string' ? fields.agentId : typeof fields.clientId === 'string' ? `client ${fields.clientId.slice(0, 8)}` : '';
}

/**
 * Record the session's events as they are applied, each with its origin: `catch-up` until the
 * first read is up to date, `replayed` when read again after a drop (the status went
 * `reconnecting` or `offline`), else `live`; a state restored from IndexedDB is one `indexeddb` row.
 */
export function inspectEvents(session: DurableSession, onRow: (row: InspectedEvent) => void): () => void {
  let origin: EventOrigin = 'catch-up';
  let restoredShown = false;
  const stopStatus = session.on('status', (status) => {
    if (status === 'reconnecting' || status === 'offline') origin = 'replayed';
    // The batch that made the session live is applied before its events are announced: keep its origin.
    else if (status === 'live') setTimeout(() => (origin = 'live'), 0);
  });
  const stopEvents = session.on('event', ({ event, offset }) => {
    const snapshot = session.get();
    if (!restoredShown && snapshot.resumed) {
      restoredShown = true;
      onRow({ offset: '', type: `restored ${snapshot.turns.length} turns`, writer: 'this device', bytes: 0, origin: 'indexeddb' });
    }
    onRow({ offset, type: event.type, writer: writerOf(event), bytes: encoder.encode(JSON.stringify(event)).byteLength, origin });
  });
  return () => {
    stopStatus();
    stopEvents();
  };
}

/** Mount the collapsible inspector panel at the end of `parent`, for every page (no framework). */
export function mountInspector(parent: HTMLElement, session: DurableSession): () => void {
  const panel = document.createElement('details');
  panel.className = 'inspector';
  panel.dataset.testid = 'inspector';
  const summary = document.createElement('summary');
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>offset</th><th>type</th><th>writer</th><th>bytes</th><th>from</th></tr></thead>';
  const body = document.createElement('tbody');
  table.append(body);
  panel.append(summary, table);
  parent.append(panel);
  let count = 0;
  const label = (): void => void (summary.textContent = `Event inspector (${count} events)`);
  label();
  const stop = inspectEvents(session, (row) => {
    count++;
    const tr = document.createElement('tr');
    tr.dataset.testid = 'inspector-row';
    tr.dataset.origin = row.origin;
    tr.dataset.type = row.type;
    for (const cell of [shortOffset(row.offset), row.type, row.writer, String(row.bytes), row.origin]) {
      const td = document.createElement('td');
      td.textContent = cell;
      tr.append(td);
    }
    body.append(tr);
    while (body.rows.length > MAX_ROWS) body.rows[0]!.remove();
    label();
  });
  return () => {
    stop();
    panel.remove();
  };
}
