import type { SessionSnapshot } from '@durable-session/core';
import { useState } from 'react';
import { copyText } from '../shared/clipboard';
import type { NetworkState } from '../shared/network';
import { PAGES, pageUrl, shareUrl, TRANSPORTS, transportFromUrl, type PageId } from '../shared/session-url';
import { STATUS_TEXT, tabText } from '../shared/view';

interface Props {
  page: PageId;
  snapshot: SessionSnapshot;
  network: NetworkState;
  onDrop(): void;
}

/** Framework and transport switches, connection badge, share link, new session and the "drop connection" switch. */
export function SessionBar({ page, snapshot, network, onDrop }: Props) {
  const [copied, setCopied] = useState<'' | 'copied' | 'select it'>('');
  const link = shareUrl(snapshot.sessionId);
  const copy = async (): Promise<void> => setCopied((await copyText(link)) ? 'copied' : 'select it');
  return (
    <header className="topbar">
      <div className="topbar-row">
        <h1 className="brand">
          durable-session <span>playground</span>
        </h1>
        <nav className="frameworks" aria-label="UI binding">
          {PAGES.map((p) => (
            <a key={p.id} href={pageUrl(p.path, snapshot.sessionId)} aria-current={p.id === page ? 'page' : undefined} data-testid={`page-${p.id}`}>
              {p.label}
            </a>
          ))}
        </nav>
        <nav className="frameworks" aria-label="Transport">
          {TRANSPORTS.map((t) => (
            <a key={t.id} href={pageUrl(window.location.pathname, snapshot.sessionId, t.id)} aria-current={t.id === transportFromUrl() ? 'page' : undefined} data-testid={`transport-${t.id}`}>
              {t.label}
            </a>
          ))}
        </nav>
        <div className="connection">
          <span className={`badge badge-${snapshot.status}`} data-testid="status-badge" title={snapshot.error?.message}>
            {STATUS_TEXT[snapshot.status]}
          </span>
          <span className="tab-info" data-testid="tab-info">
            {tabText(snapshot)}
          </span>
        </div>
      </div>
      <div className="topbar-row session-row">
        <label className="share">
          <span>Open this session elsewhere</span>
          <input readOnly value={link} data-testid="share-link" onFocus={(e) => e.currentTarget.select()} />
        </label>
        <button type="button" className="secondary" onClick={() => void copy()} data-testid="copy-link">
          {copied || 'Copy link'}
        </button>
        <a className="button secondary" href={PAGES.find((p) => p.id === page)?.path ?? '/'} data-testid="new-session">
          New session
        </a>
        <button
          type="button"
          className="secondary"
          onClick={onDrop}
          disabled={network.dropped || snapshot.tabs === 'follower'}
          title={snapshot.tabs === 'follower' ? 'This tab follows the leader tab: drop the connection there.' : 'Cut this tab’s connection for 3 seconds; the agent keeps writing.'}
          data-testid="drop-connection"
        >
          {network.dropped ? 'Connection dropped…' : 'Drop connection 3 s'}
        </button>
      </div>
    </header>
  );
}
