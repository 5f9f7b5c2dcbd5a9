import { createElement, Fragment, useMemo } from 'react';
import { parseMarkdownish, type Span } from '../shared/markdown';

function Spans({ spans }: { spans: Span[] }) {
  return (
    <>
      {spans.map((span, i) =>
        span.kind === 'strong' ? <strong key={i}>{span.text}</strong> : span.kind === 'code' ? <code key={i}>{span.text}</code> : <Fragment key={i}>{span.text}</Fragment>,
      )}
    </>
  );
}

/** Agent text as headings, paragraphs and lists: elements and text nodes only, never HTML. */
export function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => parseMarkdownish(text), [text]);
  return (
    <>
      {blocks.map((block, i) =>
        block.kind === 'ul' ? (
          <ul key={i}>
            {block.items.map((item, j) => (
              <li key={j}>
                <Spans spans={item} />
              </li>
            ))}
          </ul>
        ) : (
          createElement(block.kind, { key: i }, <Spans spans={block.spans} />)
        ),
      )}
    </>
  );
}
