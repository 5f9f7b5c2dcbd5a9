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
