// The spellings of a secret that real encoders write, so the masker can look for each of them.
//
// Derived from what tools on a build machine actually print, not from what JavaScript would write:
//   - percent-encoding (URLs, form bodies): Python `urllib.parse.quote` (safe '/' by default, or ''),
//     `quote_plus` (`+` for space), `curl --data-urlencode` (`+` for space, lower-case hex), Go
//     `url.QueryEscape`/`PathEscape`, PHP `urlencode`/`rawurlencode`, `jq @uri` (1.6 keeps `!*'()`, 1.7 does
//     not), JavaScript `encodeURIComponent`/`encodeURI`. Every safe set below × `%20` or `+` × upper- or
//     lower-case hex.
//   - JSON string bodies: JavaScript `JSON.stringify` and Python `json.dumps(ensure_ascii=False)` (non-ASCII
//     as is), Python `json.dumps` and `jq -a` (`\u00e9`), PHP `json_encode` (`\/` and `\u00e9`), Go
//     `encoding/json` (`\u0026 \u003c \u003e`, `\u2028 \u2029`), and the upper-case hex some libraries write.
//   - base64 at the three byte alignments (the masker's `base64Needle`).
// The list is finite on purpose: the masker looks for literal strings, which keeps it streaming and fast.
// What is not here is not masked; SECURITY.md lists both.

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UNRESERVED = `${ALNUM}-._~`;

/** Characters left as they are, per encoder family (everything else is %XX of its UTF-8 bytes). */
export const PERCENT_SAFE_SETS: Readonly<Record<string, string>> = {
  /** Nothing but letters and digits (the strictest encoders). */
  alnum: ALNUM,
  /** PHP `urlencode`: `~` is encoded. */
  php: `${ALNUM}-._`,
  /** RFC 3986 unreserved: Python `quote(s, safe='')`, `curl`, Go `QueryEscape`, PHP `rawurlencode`, jq 1.7. */
  unreserved: UNRESERVED,
  /** Python `quote(s)` (safe='/' by default). */
  slash: `${UNRESERVED}/`,
  /** JavaScript `encodeURIComponent`, jq 1.6 `@uri`. */
  component: `${UNRESERVED}!*'()`,
  /** JavaScript `encodeURI`. */
  uri: `${UNRESERVED}!*'();,/?:@&=+$#`,
  /** Go `url.PathEscape`. */
  goPath: `${UNRESERVED}$&+,:;=@`,
};

export interface PercentOptions {
  safe: string;
  /** Space as `+` (form encoding) instead of `%20`. */
  plus: boolean;
  /** `%c3` instead of `%C3`. */
  lowerHex: boolean;
}

export function percentEncode(value: string, o: PercentOptions): string {
  let out = '';
  for (const ch of value) {
    if (o.safe.includes(ch)) out += ch;
    else if (ch === ' ' && o.plus) out += '+';
    else
      for (const byte of Buffer.from(ch, 'utf8')) {
        const hex = byte.toString(16).padStart(2, '0');
        out += `%${o.lowerHex ? hex : hex.toUpperCase()}`;
      }
  }
  return out;
}

export interface JsonOptions {
  /** Non-ASCII as `\uXXXX` (UTF-16 units), as Python's default `ensure_ascii=True`. */
  ascii: boolean;
  /** `/` as `\/` (PHP). */
  slash: boolean;
  /** `&`, `<`, `>`, U+2028 and U+2029 as `\u0026`… (Go). */
  html: boolean;
  /** `\u00E9` instead of `\u00e9`. */
  upperHex: boolean;
}

const HTML_ESCAPED = new Set(['&', '<', '>', '\u2028', '\u2029']);

/** The inside of a JSON string literal holding `value` (without the quotes). */
export function jsonEscape(value: string, o: JsonOptions): string {
  const body = JSON.stringify(value).slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      // An escape JSON.stringify wrote: kept, with its hex in the requested case.
      const escape = body[i + 1] === 'u' ? body.slice(i, i + 6) : body.slice(i, i + 2);
      out += o.upperHex ? `\\${escape[1]}${escape.slice(2).toUpperCase()}` : escape;
      i += escape.length - 1;
      continue;
    }
    const code = ch.charCodeAt(0);
    if ((o.ascii && code > 0x7f) || (o.html && HTML_ESCAPED.has(ch))) {
      const hex = code.toString(16).padStart(4, '0');
      out += `\\u${o.upperHex ? hex.toUpperCase() : hex}`;
    } else if (o.slash && ch === '/') out += '\\/';
    else out += ch;
  }
  return out;
}

/** Every percent-encoded spelling of `value` (deduplicated; may include `value` itself). */
export function percentForms(value: string): string[] {
  const forms = new Set<string>();
  for (const safe of Object.values(PERCENT_SAFE_SETS))
    for (const plus of [false, true])
      for (const lowerHex of [false, true]) forms.add(percentEncode(value, { safe, plus, lowerHex }));
  return [...forms];
}

/** Every JSON-string spelling of `value` (deduplicated; may include `value` itself). */
export function jsonForms(value: string): string[] {
  const forms = new Set<string>();
  for (const ascii of [false, true])
    for (const slash of [false, true])
      for (const html of [false, true])
        for (const upperHex of [false, true]) forms.add(jsonEscape(value, { ascii, slash, html, upperHex }));
  return [...forms];
}

/** `value`, its percent-encoded and its JSON-escaped spellings, deduplicated. Base64 is the masker's. */
export function encodedForms(value: string): string[] {
  return [...new Set([value, ...percentForms(value), ...jsonForms(value)])];
}
