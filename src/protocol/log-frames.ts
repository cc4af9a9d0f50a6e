// The binary log upload (docs/adr/0021-log-bytes.md): a batch of one attempt's log chunks as raw bytes, each
// behind a one-line ASCII header, so neither side encodes, escapes or re-decodes the log text.
//
//   "<attempt> <seq> <offset> <length>\n" followed by <length> bytes of UTF-8, repeated; nothing after the last.
//
// Carried today as the body of `PUT /api/v1/runner/leases/:lease/log` (Content-Type
// application/octet-stream); a runner session can carry the same bytes as one binary frame. The contract of
// each chunk is that of the JSON call: `seq` numbers the attempt's chunks from 0, `offset` is the chunk's
// first byte in the attempt's log, and chunk `seq` starts where chunk `seq - 1` ended. No imports: the
// encoding is the wire contract and nothing else.

/** Bytes of UTF-8 per log chunk (the JSON call's limit too). */
export const MAX_LOG_FRAME_BYTES = 1_048_576;
/** Chunks per batch (the JSON call's limit too). */
export const MAX_LOG_FRAMES = 1000;
/** The longest header line: four decimal numbers below 2^53, three spaces and the newline. */
const MAX_HEADER_BYTES = 4 * 16 + 4;

export interface LogFrame {
  attempt: number;
  seq: number;
  offset: number;
  bytes: Buffer;
}

export type DecodedLogFrames =
  | { ok: true; frames: LogFrame[] }
  | {
      ok: false;
      message: string;
      /** A chunk over the size limit, rather than a malformed body. */ tooLarge?: true;
    };

/** A chunk's header line, ASCII: "<attempt> <seq> <offset> <length>\n". */
export function logFrameHeader(attempt: number, seq: number, offset: number, length: number): string {
  return `${attempt} ${seq} ${offset} ${length}\n`;
}

/** One batch body: each chunk's header line, then its bytes (no copy of the log bytes beyond the one concat). */
export function encodeLogFrames(frames: readonly LogFrame[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    parts.push(Buffer.from(logFrameHeader(f.attempt, f.seq, f.offset, f.bytes.length), 'latin1'), f.bytes);
  }
  return Buffer.concat(parts);
}

/** Reads a batch body; a malformed one is answered with what is wrong and where (a result, not a throw). */
export function decodeLogFrames(body: Buffer): DecodedLogFrames {
  const frames: LogFrame[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (frames.length === MAX_LOG_FRAMES)
      return { ok: false, message: `a log batch holds at most ${MAX_LOG_FRAMES} chunks` };
    const eol = body.indexOf(0x0a, pos);
    if (eol < 0 || eol - pos > MAX_HEADER_BYTES)
      return { ok: false, message: `log chunk ${frames.length} has no header line at byte ${pos}` };
    const fields = body.toString('latin1', pos, eol).split(' ');
    const numbers = fields.map((s) => (/^(0|[1-9][0-9]{0,15})$/.test(s) ? Number(s) : NaN));
    if (numbers.length !== 4 || !numbers.every((n) => Number.isSafeInteger(n)))
      return {
        ok: false,
        message: `log chunk ${frames.length}'s header "${body.toString('latin1', pos, eol)}" is not "<attempt> <seq> <offset> <length>"`,
      };
    const [attempt, seq, offset, length] = numbers as [number, number, number, number];
    if (length > MAX_LOG_FRAME_BYTES)
      return {
        ok: false,
        message: `log chunk ${seq} is ${length} bytes; the limit is ${MAX_LOG_FRAME_BYTES} bytes per chunk`,
        tooLarge: true,
      };
    const start = eol + 1;
    if (start + length > body.length)
      return {
        ok: false,
        message: `log chunk ${seq} announces ${length} bytes but the body ends after ${body.length - start}`,
      };
    frames.push({ attempt, seq, offset, bytes: body.subarray(start, start + length) });
    pos = start + length;
  }
  return { ok: true, frames };
}
