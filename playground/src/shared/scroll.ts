/**
 * Keep the page scrolled to the bottom while the transcript grows, unless the reader
 * scrolled up (then leave them where they are). Returns a function that stops it.
 */
export function followScroll(target: Element): () => void {
  const page = document.scrollingElement ?? document.documentElement;
  let pinned = true;
  const onScroll = (): void => {
    pinned = page.scrollHeight - page.scrollTop - page.clientHeight < 120;
  };
  const observer = new MutationObserver(() => {
    if (pinned) page.scrollTop = page.scrollHeight;
  });
  observer.observe(target, { childList: true, subtree: true, characterData: true });
  window.addEventListener('scroll', onScroll, { passive: true });
  return () => {
    observer.disconnect();
    window.removeEventListener('scroll', onScroll);
  };
}

/** Load older turns when the reader scrolls within this many pixels of the top. */
const NEAR_TOP_PX = 200;

/**
 * Load older turns (`loadOlder`) whenever the reader is near the top of the page (scrolled up, or a
 * page too short to scroll) while `olderTurns()` says some are left, keeping what they look at in
 * place. Returns a function that stops it.
 */
export function loadOlderOnScroll(olderTurns: () => number, loadOlder: () => Promise<number>): () => void {
  const page = document.scrollingElement ?? document.documentElement;
  let loading = false;
  const check = (): void => {
    if (loading || page.scrollTop > NEAR_TOP_PX || olderTurns() === 0) return;
    loading = true;
    const fromBottom = page.scrollHeight - page.scrollTop;
    loadOlder()
      .then(() => requestAnimationFrame(() => (page.scrollTop = page.scrollHeight - fromBottom)))
      .catch((error: unknown) => console.warn('loading older turns failed', error))
      .finally(() => (loading = false));
  };
  // A page too short to scroll sends no scroll event: look again now and then.
  const timer = setInterval(check, 500);
  window.addEventListener('scroll', check, { passive: true });
  return () => {
    clearInterval(timer);
    window.removeEventListener('scroll', check);
  };
}
