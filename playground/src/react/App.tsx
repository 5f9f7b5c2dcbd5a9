import { useDurableSession } from '@durable-session/react';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { PlaygroundPage } from '../shared/playground';
import { followScroll, loadOlderOnScroll } from '../shared/scroll';
import { noticeText } from '../shared/view';
import { Composer } from './Composer';
import { SessionBar } from './SessionBar';
import { TurnView } from './TurnView';

/** The React page: the whole chat on `useDurableSession`. */
export function App({ page }: { page: PlaygroundPage }) {
  const chat = useDurableSession(page.session);
  const network = useSyncExternalStore(page.network.subscribe, page.network.get);
  const transcript = useRef<HTMLElement>(null);
  useEffect(() => (transcript.current ? followScroll(transcript.current) : undefined), []);
  const latest = useRef(chat);
  latest.current = chat;
  useEffect(() => loadOlderOnScroll(() => latest.current.olderTurns, () => latest.current.loadOlder()), []);
  return (
    <div className="app">
      <div className="masthead">
        <SessionBar page="react" snapshot={chat} network={network} onDrop={() => page.network.drop(3000)} />
        {network.notice && (
          <div className={`notice notice-${network.notice.kind}`} role="status" data-testid="resume-notice" data-kind={network.notice.kind}>
            <span>{noticeText(network.notice)}</span>
            <button type="button" className="link" onClick={page.network.dismiss} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
      </div>
      <main className="transcript" ref={transcript} data-testid="transcript">
        {chat.turns.length === 0 && (
          <p className="empty">
            Ask something. Then cut the network, open the share link in another browser, or press Stop in another tab: the answer lives in the session, not in the connection.
          </p>
        )}
        {chat.turns.map((turn) => (
          <TurnView key={turn.turnId} turn={turn} answer={(askId, choice) => void chat.answer(askId, choice).catch(() => {})} />
        ))}
      </main>
      <Composer
        streaming={chat.activeTurnId !== undefined}
        empty={chat.turns.length === 0}
        send={(text) => chat.send(text)}
        steer={(text) => chat.steer(text)}
        stop={() => chat.cancel()}
      />
    </div>
  );
}
