/**
 * A deliberately small Markdown-ish reader for agent output: `#`/`##`/`###` headings,
 * `- ` bullet lists, paragraphs, `**bold**` and `` `code` ``. It returns plain data that
 * each UI renders with elements and text nodes, never as HTML, so nothing an agent
 * writes can inject markup. Unfinished markers (while an answer streams) stay as text.
 */

/** A run of inline text. */
export interface Span {
  kind: 'text' | 'strong' | 'code';
  text: string;
}

/** A block of an answer. */
export type Block = { kind: 'h2' | 'h3' | 'p'; spans: Span[] } | { kind: 'ul'; items: Span[][] };

const INLINE = /(\*\*[^*\n]+\*\*|`[^`\n]+`)/;

/** Split a line into text, **strong** and `code` spans. */
export function parseInline(line: string): Span[] {
  return line
    .split(INLINE)
    .filter((part) => part !== '')
    .map((part): Span =>
      part.startsWith('**') && part.endsWith('**') && part.length > 4
        ? { kind: 'strong', text: part.slice(2, -2) }
        : part.startsWith('`') && part.endsWith('`') && part.length > 2
          ? { kind: 'code', text: part.slice(1, -1) }
          : { kind: 'text', text: part },
    );
}

/**
 * Read Markdown-ish text into blocks.
 * @example
 * parseMarkdownish('## Title\n\nSome **bold** text\n- a\n- b');
 * // [{ kind: 'h2', … }, { kind: 'p', … }, { kind: 'ul', items: [[…], […]] }]
 */
export function parseMarkdownish(text: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let list: Span[][] = [];
  const flush = (): void => {
    if (paragraph.length) blocks.push({ kind: 'p', spans: parseInline(paragraph.join(' ')) });
    if (list.length) blocks.push({ kind: 'ul', items: list });
    paragraph = [];
    list = [];
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (line === '') flush();
    else if (heading) {
      flush();
      blocks.push({ kind: (heading[1] ?? '').length === 3 ? 'h3' : 'h2', spans: parseInline(heading[2] ?? '') });
    } else if (item) {
      if (paragraph.length) flush();
      list.push(parseInline(item[1] ?? ''));
    } else {
      if (list.length) flush();
      paragraph.push(line);
    }
  }
  flush();
  return blocks;
}

/** The text a rendering of `text` shows, whitespace removed: what tests compare. */
export function visibleText(text: string): string {
  return parseMarkdownish(text)
    .flatMap((block) => (block.kind === 'ul' ? block.items.flat() : block.spans))
    .map((span) => span.text)
    .join('')
    .replace(/\s+/g, '');
}
