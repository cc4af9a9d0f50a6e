// A small Markdown reader for step summaries (GITHUB_STEP_SUMMARY): headings, paragraphs, lists, fenced code,
// block quotes, tables, rules; inline code, bold, italic, strikethrough and links. It yields data, not HTML: the
// page renders it as elements whose text is escaped by Preact, so a summary can hold no markup or script. Raw
// HTML in a summary shows as text; a link's address must be http(s), mailto or relative, else it is plain text.

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong' | 'em' | 'del'; children: Inline[] }
  | { kind: 'link'; href: string; children: Inline[] };

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; children: Block[] }
  | { kind: 'list'; ordered: boolean; items: Inline[][] }
  | { kind: 'table'; head: Inline[][]; rows: Inline[][][] }
  | { kind: 'rule' };

/** Nesting of inline markup and quotes read at most: deeper text stays as written. */
const MAX_DEPTH = 8;

export function parseMarkdown(text: string, depth = 0): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  const isBlank = (l: string | undefined) => l === undefined || l.trim() === '';
  while (i < lines.length) {
    const line = lines[i]!;
    if (isBlank(line)) {
      i++;
      continue;
    }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!)) body.push(lines[i++]!);
      i++;
      blocks.push({ kind: 'code', text: body.join('\n') });
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      blocks.push({
        kind: 'heading',
        level: heading[1]!.length as 1 | 2 | 3 | 4 | 5 | 6,
        children: parseInline(heading[2]!, depth),
      });
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ kind: 'rule' });
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i]!))
        body.push(lines[i++]!.replace(/^\s{0,3}>\s?/, ''));
      blocks.push({
        kind: 'quote',
        children:
          depth < MAX_DEPTH
            ? parseMarkdown(body.join('\n'), depth + 1)
            : [{ kind: 'paragraph', children: [{ kind: 'text', text: body.join('\n') }] }],
      });
      continue;
    }
    const item = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;
    if (item.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: Inline[][] = [];
      while (i < lines.length && item.test(lines[i]!))
        items.push(parseInline(item.exec(lines[i++]!)![2]!, depth));
      blocks.push({ kind: 'list', ordered, items });
      continue;
    }
    if (line.includes('|') && /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/.test(lines[i + 1] ?? '')) {
      const head = cells(line).map((c) => parseInline(c, depth));
      i += 2;
      const rows: Inline[][][] = [];
      while (i < lines.length && !isBlank(lines[i]) && lines[i]!.includes('|'))
        rows.push(cells(lines[i++]!).map((c) => parseInline(c, depth)));
      blocks.push({ kind: 'table', head, rows });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines[i]!)) para.push(lines[i++]!.trim());
    if (para.length === 0) para.push(lines[i++]!.trim());
    blocks.push({ kind: 'paragraph', children: parseInline(para.join('\n'), depth) });
  }
  return blocks;
}

function startsBlock(line: string): boolean {
  return /^\s{0,3}(#{1,6}\s|```|~~~|>|[-*+]\s|\d{1,9}[.)]\s)/.test(line);
}

function cells(line: string): string[] {
  let text = line.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((c) => c.trim().replaceAll('\\|', '|'));
}

const SAFE_HREF = /^(https?:\/\/|mailto:|\/|#|\.{0,2}\/)|^[^:]*$/i;

// Sticky patterns tried only where a marker character stands; a span is at most 1000 characters long, so a
// summary full of unclosed markers costs linear time, not quadratic.
const CODE = /(`+)([^`][\s\S]{0,1000}?)\1(?!`)/y;
const LINK = /\[([^\]]{0,1000})\]\(([^)\s]{0,2000})\)/y;
const SPAN =
  /(\*\*|__)(?=\S)([\s\S]{0,1000}?\S)\1|(~~)(?=\S)([\s\S]{0,1000}?\S)~~|([*_])(?=\S)([\s\S]{0,1000}?\S)\5/y;

/** Inline markup, left to right; what does not close is text. */
export function parseInline(text: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') out.push({ kind: 'text', text: plain });
    plain = '';
  };
  const at = (re: RegExp, i: number): RegExpExecArray | null => {
    re.lastIndex = i;
    return re.exec(text);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const code = c === '`' ? at(CODE, i) : null;
    if (code) {
      flush();
      out.push({ kind: 'code', text: code[2]!.trim() });
      i += code[0].length;
      continue;
    }
    const link = c === '[' && depth < MAX_DEPTH ? at(LINK, i) : null;
    if (link) {
      flush();
      const children = parseInline(link[1]!, depth + 1);
      if (SAFE_HREF.test(link[2]!)) out.push({ kind: 'link', href: link[2]!, children });
      else out.push(...children);
      i += link[0].length;
      continue;
    }
    const span = (c === '*' || c === '_' || c === '~') && depth < MAX_DEPTH ? at(SPAN, i) : null;
    if (span) {
      flush();
      const [kind, inner] =
        span[1] !== undefined
          ? (['strong', span[2]!] as const)
          : span[3] !== undefined
            ? (['del', span[4]!] as const)
            : (['em', span[6]!] as const);
      out.push({ kind, children: parseInline(inner, depth + 1) });
      i += span[0].length;
      continue;
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}
