// ANSI escape sequences in log lines: SGR (colours, bold, …) become styled spans; every other escape sequence
// (cursor moves, OSC titles and links) is dropped, so a log reads as the terminal showed it.

/** A colour: an index into the 16-colour palette (styled by CSS classes) or a CSS colour (256 and truecolor). */
export type AnsiColor = number | string;

export interface AnsiStyle {
  fg?: AnsiColor;
  bg?: AnsiColor;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface AnsiSpan {
  text: string;
  style: AnsiStyle;
}

// CSI (ESC [ params final), OSC (ESC ] … BEL or ESC \), and two-byte escapes (ESC x).
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[([0-?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;

/** The 256-colour palette entry n (16–255) as a CSS colour; 0–15 stay palette indices. */
function color256(n: number): AnsiColor {
  if (n < 16) return n;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x: number) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

/** Applies one SGR parameter list to a style (a copy: styles are shared between spans). */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const s: AnsiStyle = { ...style };
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) {
      for (const k of Object.keys(s)) delete s[k as keyof AnsiStyle];
    } else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 22) s.bold = s.dim = undefined;
    else if (c === 23) s.italic = undefined;
    else if (c === 24) s.underline = undefined;
    else if (c === 27) s.inverse = undefined;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = undefined;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = undefined;
    else if (c === 38 || c === 48) {
      const key = c === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && codes[i + 2] !== undefined) {
        s[key] = color256(codes[i + 2]! & 255);
        i += 2;
      } else if (codes[i + 1] === 2 && codes[i + 4] !== undefined) {
        const [r, g, b] = [codes[i + 2]!, codes[i + 3]!, codes[i + 4]!].map((x) => Math.min(255, x));
        s[key] = `rgb(${r},${g},${b})`;
        i += 4;
      }
    }
  }
  for (const k of Object.keys(s) as (keyof AnsiStyle)[]) if (s[k] === undefined) delete s[k];
  return s;
}

/** Splits one line into styled spans, starting from `start` (the style the previous line left open). */
export function parseAnsi(line: string, start: AnsiStyle = {}): { spans: AnsiSpan[]; end: AnsiStyle } {
  if (!line.includes('\x1b')) return { spans: line ? [{ text: line, style: start }] : [], end: start };
  const spans: AnsiSpan[] = [];
  let style = start;
  let last = 0;
  for (const m of line.matchAll(ESCAPE)) {
    if (m.index > last) spans.push({ text: line.slice(last, m.index), style });
    if (m[2] === 'm') style = applySgr(style, m[1] ?? '');
    last = m.index + m[0].length;
  }
  if (last < line.length) spans.push({ text: line.slice(last), style });
  return { spans, end: style };
}

/** The style a line leaves open, without building spans (cheap: used for every line as it arrives). */
export function endStyle(line: string, start: AnsiStyle): AnsiStyle {
  if (!line.includes('\x1b')) return start;
  let style = start;
  for (const m of line.matchAll(ESCAPE)) if (m[2] === 'm') style = applySgr(style, m[1] ?? '');
  return style;
}

export function stripAnsi(line: string): string {
  return line.includes('\x1b') ? line.replace(ESCAPE, '') : line;
}

export const isPlain = (s: AnsiStyle) => Object.keys(s).length === 0;
