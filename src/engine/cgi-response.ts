// The response of a CGI/1.1 driver (RFC 3875 section 6, docs/drivers.md): a header block ended by a blank line
// (LF or CRLF), then a body. Read incrementally with bounds, then turned into the task's outputs.

import { parseEnv } from 'node:util';

/** Bytes of the header block, blank line included; past it the response is refused (a driver that never ends it). */
export const CGI_HEADER_MAX_BYTES = 64 * 1024;
/** Bytes of the body; past it the driver is stopped and the task fails. Outputs are values, not artifacts. */
export const CGI_BODY_MAX_BYTES = 4 * 1024 * 1024;
/** Characters of a failing body quoted in the task's message. */
const MESSAGE_MAX_CHARS = 2000;

export interface CgiHeaders {
  status: number;
  reason: string;
  /** Without parameters, lower-case (`application/json; charset=utf-8` is `application/json`). */
  contentType: string | undefined;
  /** Every header as written (names lower-cased, last one wins); parsed, used only as documented. */
  all: Record<string, string>;
}

export type Parsed<T> = { value: T } | { error: string };

/**
 * Collects a driver's stdout. `push` returns an error sentence once a bound is crossed (the caller stops the
 * driver); `finish` parses what arrived.
 */
export class CgiResponseReader {
  #head: Buffer[] = [];
  #headBytes = 0;
  #headEnd: number | undefined;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  readonly #limits: { headerBytes: number; bodyBytes: number };

  constructor(limits: Partial<{ headerBytes: number; bodyBytes: number }> = {}) {
    this.#limits = {
      headerBytes: limits.headerBytes ?? CGI_HEADER_MAX_BYTES,
      bodyBytes: limits.bodyBytes ?? CGI_BODY_MAX_BYTES,
    };
  }

  push(chunk: Buffer): string | undefined {
    if (this.#headEnd === undefined) {
      this.#head.push(chunk);
      this.#headBytes += chunk.length;
      const head = Buffer.concat(this.#head);
      this.#head = [head];
      const end = blankLine(head);
      if (end === undefined) {
        if (head.length > this.#limits.headerBytes)
          return `the driver's response headers are over ${this.#limits.headerBytes} bytes without the blank line that ends them; the limit is ${this.#limits.headerBytes} bytes`;
        return undefined;
      }
      this.#headEnd = end.start;
      if (end.start > this.#limits.headerBytes)
        return `the driver's response headers are ${end.start} bytes; the limit is ${this.#limits.headerBytes} bytes`;
      this.#head = [head.subarray(0, end.start)];
      chunk = head.subarray(end.after);
    }
    this.#bodyBytes += chunk.length;
    if (this.#bodyBytes > this.#limits.bodyBytes)
      return `the driver's response body is over ${this.#limits.bodyBytes} bytes; the limit is ${this.#limits.bodyBytes} bytes`;
    if (chunk.length > 0) this.#body.push(chunk);
    return undefined;
  }

  finish(): Parsed<{ headers: CgiHeaders; body: Buffer }> {
    if (this.#headEnd === undefined)
      return {
        error:
          this.#headBytes === 0
            ? 'the driver wrote no response on stdout (a CGI response is headers, a blank line, a body)'
            : "the driver's response has no blank line after its headers",
      };
    const headers = parseHeaders(Buffer.concat(this.#head).toString('latin1'));
    if ('error' in headers) return headers;
    return { value: { headers: headers.value, body: Buffer.concat(this.#body) } };
  }
}

/** The first empty line (LF LF, CRLF CRLF, or a mix): where the headers end and where the body starts. */
function blankLine(head: Buffer): { start: number; after: number } | undefined {
  // An empty header block: the response starts with its blank line.
  if (head[0] === 0x0a) return { start: 0, after: 1 };
  if (head[0] === 0x0d && head[1] === 0x0a) return { start: 0, after: 2 };
  for (let i = head.indexOf(0x0a); i !== -1; i = head.indexOf(0x0a, i + 1)) {
    if (head[i + 1] === 0x0a) return { start: i + 1, after: i + 2 };
    if (head[i + 1] === 0x0d && head[i + 2] === 0x0a) return { start: i + 1, after: i + 3 };
  }
  return undefined;
}

/** RFC 3875 6.2: `Status: 404 Not Found`, `Content-Type: ...`, `Location: ...`, any other header. */
export function parseHeaders(text: string): Parsed<CgiHeaders> {
  const all: Record<string, string> = {};
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.at(-1) === '') lines.pop();
  for (const [index, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return {
        error: `the driver's response header line ${index + 1} is malformed (${JSON.stringify(line.slice(0, 100))}); each line before the blank one must be 'Name: value'`,
      };
    all[name.toLowerCase()] = line.slice(colon + 1).trim();
  }
  let status = 200;
  let reason = 'OK';
  const given = all.status;
  if (given !== undefined) {
    const match = /^(\d{3})(?:\s+(.*))?$/.exec(given);
    if (match === null)
      return {
        error: `the driver's Status header '${given.slice(0, 100)}' is not a three-digit code and reason`,
      };
    status = Number(match[1]);
    reason = match[2] ?? '';
  } else if (all.location !== undefined) {
    status = 302; // RFC 3875 6.2.3: a redirect
    reason = 'Found';
  }
  const type = all['content-type']?.split(';')[0]?.trim().toLowerCase();
  return { value: { status, reason, contentType: type === '' ? undefined : type, all } };
}

export interface DriverResult {
  outputs: Record<string, string>;
  /** Names among `outputs` that are confidential (the body's `secrets`): masked from now on. */
  secrets: string[];
}

/**
 * A successful response's outputs: `application/json` is `{outputs, secrets}`; `text/plain` is dotenv lines;
 * any other type gives `status`, `content_type` and `body` (UTF-8, invalid bytes as U+FFFD).
 */
export function responseOutputs(headers: CgiHeaders, body: Buffer): Parsed<DriverResult> {
  if (headers.contentType === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      return { error: `the driver's JSON body does not parse: ${(error as Error).message}` };
    }
    if (!isObject(parsed)) return { error: "the driver's JSON body must be an object {outputs, secrets}" };
    const outputs = values(parsed.outputs, 'outputs');
    if ('error' in outputs) return outputs;
    const secrets = values(parsed.secrets, 'secrets');
    if ('error' in secrets) return secrets;
    return {
      value: {
        outputs: { ...outputs.value, ...secrets.value },
        secrets: Object.keys(secrets.value),
      },
    };
  }
  if (headers.contentType === 'text/plain' || headers.contentType === undefined) {
    const entries = Object.entries(parseEnv(body.toString('utf8')));
    const outputs: Record<string, string> = {};
    for (const [name, value] of entries) if (value !== undefined) outputs[name] = value;
    return { value: { outputs, secrets: [] } };
  }
  return {
    value: {
      outputs: {
        status: String(headers.status),
        content_type: headers.all['content-type'] ?? '',
        body: body.toString('utf8'),
      },
      secrets: [],
    },
  };
}

/** A failing response's message: JSON `message` or `error`, else the body's text, shortened. */
export function failureMessage(headers: CgiHeaders, body: Buffer): string {
  const text = body.toString('utf8').trim();
  let said = text;
  if (headers.contentType === 'application/json') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) {
        const found = [parsed.message, parsed.error].find((v) => typeof v === 'string');
        if (typeof found === 'string') said = found;
        else if (isObject(parsed.error) && typeof parsed.error.message === 'string')
          said = parsed.error.message;
      }
    } catch {
      // Not JSON after all: the text itself is the message.
    }
  }
  if (said.length > MESSAGE_MAX_CHARS) said = `${said.slice(0, MESSAGE_MAX_CHARS)}…`;
  const status = `${headers.status}${headers.reason === '' ? '' : ` ${headers.reason}`}`;
  return said === '' ? `the driver answered ${status}` : `the driver answered ${status}: ${said}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A name → value map; non-string values become their JSON text. */
function values(value: unknown, what: string): Parsed<Record<string, string>> {
  if (value === undefined || value === null) return { value: {} };
  if (!isObject(value))
    return { error: `'${what}' in the driver's JSON body must be an object of name: value` };
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) out[name] = typeof v === 'string' ? v : JSON.stringify(v);
  return { value: out };
}
