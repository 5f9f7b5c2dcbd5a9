import type { ConnectionStatus, PresenceEntry, SessionSnapshot, SteerStatus, Turn, TurnStatus } from '@durable-session/core';
import type { ResumeNotice } from './network';

/** One agent's part of a turn, as a column of the transcript. */
export interface AgentAnswer {
  agentId: string;
  /** The agent id, capitalized. */
  label: string;
  text: string;
  /** `streaming` until this agent sent `turn.end` (or the turn stopped). */
  status: TurnStatus;
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The answers of a turn, one per agent that wrote something, in the order agents started.
 * An agent that only coordinates (wrote nothing) is left out.
 */
export function answersOf(turn: Turn): AgentAnswer[] {
  return Object.entries(turn.agents)
    .filter(([, text]) => text !== '')
    .map(([agentId, text]) => ({
      agentId,
      label: capitalize(agentId),
      text,
      status: turn.ended[agentId] ?? (turn.status === 'streaming' ? 'streaming' : turn.status),
    }));
}

/** Whether several agents write into this turn (shown side by side). */
export const isMultiAgent = (turn: Turn): boolean => Object.keys(turn.agents).length > 1;

/** Words for a turn's status. */
export function turnStatusText(turn: Turn): string {
  switch (turn.status) {
    case 'streaming':
      return Object.keys(turn.agents).length === 0 ? 'waiting for the agent…' : 'streaming…';
    case 'complete':
      return 'complete';
    case 'cancelled':
      return 'cancelled';
    case 'error':
      return `error: ${turn.error ?? 'unknown'}`;
  }
}

/** Words for the connection badge. */
export const STATUS_TEXT: Record<ConnectionStatus, string> = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  offline: 'offline',
  closed: 'closed',
};

/** A line describing where this tab's state and connection come from. */
export function tabText(snapshot: SessionSnapshot): string {
  const tab = snapshot.tabs === 'leader' ? 'leader tab' : snapshot.tabs === 'follower' ? 'follows the leader tab' : 'own connection';
  const saved = snapshot.persistence === 'indexeddb' ? 'saved in IndexedDB' : 'memory only';
  const watching = presenceText(snapshot.presence);
  return watching ? `${tab} · ${saved} · ${watching}` : `${tab} · ${saved}`;
}

/** Who watches the session now: `watching: 2 browsers, 3 tabs` (empty before the first beat). */
export function presenceText(presence: readonly PresenceEntry[]): string {
  if (presence.length === 0) return '';
  const tabs = presence.reduce((sum, entry) => sum + entry.tabs, 0);
  return `watching: ${presence.length} browser${presence.length === 1 ? '' : 's'}, ${tabs} tab${tabs === 1 ? '' : 's'}`;
}

/** Words for a steer's delivery state, shown beside it. */
export function steerStateText(steer: SteerStatus): string {
  switch (steer.state) {
    case 'sent':
      return 'sent';
    case 'received':
      return 'received';
    case 'applied':
      return 'applied';
    case 'rejected':
      return steer.reason === 'turn-ended' ? 'rejected: the turn had ended' : `rejected: ${steer.reason ?? 'by the agent'}`;
  }
}

/** An offset for people: leading zeros of each `_`-separated part dropped (`0000_0042` → `0_42`). */
export const shortOffset = (offset: string): string => offset.replace(/(^|_)0+(?=[0-9a-z])/gi, '$1');

/** Words for a resume notice. */
export function noticeText(notice: ResumeNotice): string {
  const offset = shortOffset(notice.from);
  const events = `${notice.caughtUp} event${notice.caughtUp === 1 ? '' : 's'}`;
  return notice.kind === 'restored'
    ? `Picked up where this device left off (after offset ${offset}), then caught up ${events} from the server.`
    : `Connection back: resumed after offset ${offset} and caught up ${events}: nothing lost, nothing repeated.`;
}

/** Prompts offered on an empty session. */
export const SUGGESTIONS = [
  'Explain durable sessions',
  'Compare SSE and long-polling',
  'Write 600 words about resumable streams',
] as const;
