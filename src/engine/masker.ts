// Masking: every occurrence of a secret value in the log becomes `***` before the log leaves the engine,
// also when a value is split across chunks at any offset.
//
// Values become "needles" (`needlesFor`): the value itself and each line of a multi-line value. A needle
// shorter than MIN_MASK_LENGTH is never masked: `***` in place of every "a" or "42" would wreck the log
// and hint at the value more than it hides it (DESIGN.md refuses such values as secrets upstream).
// Encoded forms are needles too: the percent-encoded and JSON-escaped spellings real encoders write
// (mask-forms.ts) and base64 at the three alignments. Not covered (SECURITY.md): hex, double encodings,
// reversed or otherwise transformed values.
//
// Streaming: text is emitted as soon as it cannot be the start of a needle. Only a tail that is a proper
// prefix of some needle is held back (so at most the longest needle's length minus one characters, per
// stream), until more text decides it or the step ends (`flush`). There is no timer: a timer would emit
// the first half of a secret that a step writes in two writes far apart, and text that cannot start a
// needle is never held, so live logs stay live.

import { encodedForms } from './mask-forms.ts';

/** Values shorter than this are not masked (too many false positives, see above). */
export const MIN_MASK_LENGTH = 4;

export const MASK = '***';

/**
 * The part of base64 that depends only on `value` when it starts `offset` bytes (0, 1 or 2) into the encoded
 * data: the characters mixing in unknown bytes before or after it are dropped. Together the three offsets
 * cover the value wherever it sits in a base64 stream.
 */
export function base64Needle(value: string, offset: 0 | 1 | 2): string {
  const bytes = Buffer.concat([Buffer.alloc(offset), Buffer.from(value, 'utf8')]);
  const encoded = bytes.toString('base64').replace(/=+$/, '');
  const skip = [0, 2, 3][offset]!;
  const whole = Math.floor(bytes.length / 3) * 4 + (bytes.length % 3);
  return encoded.slice(skip, whole);
}

/** The strings to replace for one secret value: itself, its lines, and its common encodings. */
export function needlesFor(value: string): string[] {
  const forms = [value];
  if (/[\r\n]/.test(value)) forms.push(...value.split(/\r?\n|\r/));
  const needles = new Set<string>();
  for (const form of forms) {
    // A line too short to mask is not masked in any spelling either: `%2F%20` for a line "/ " would mask
    // ordinary text just as the line itself would.
    if (form.length < MIN_MASK_LENGTH) continue;
    for (const encoded of encodedForms(form)) needles.add(encoded);
    for (const offset of [0, 1, 2] as const) needles.add(base64Needle(form, offset));
  }
  return [...needles].filter((n) => n.length >= MIN_MASK_LENGTH);
}

export type MaskedStream = 'stdout' | 'stderr';

export interface Masker {
  /** Masks `value` (and its needles) in all text from now on. Idempotent. */
  add(value: string): void;
  /** Streamed text: emitted masked, possibly with a held-back tail. */
  write(stream: MaskedStream, text: string): void;
  /** Emits every held-back tail (the step ended, or its output did). */
  flush(): void;
  /** Masks a complete text at once (system lines, messages). */
  mask(text: string): string;
}

export function createMasker(
  emit: (stream: MaskedStream, text: string) => void,
  values: Iterable<string> = [],
): Masker {
  const needles = new Set<string>();
  // Sorted longest first, so that at one position the longest needle wins (a whole multi-line value
  // over its first line).
  let sorted: string[] = [];
  const pending: Record<MaskedStream, string> = { stdout: '', stderr: '' };

  const add = (value: string): void => {
    let changed = false;
    for (const n of needlesFor(value)) {
      if (needles.has(n)) continue;
      needles.add(n);
      changed = true;
    }
    if (changed) sorted = [...needles].sort((a, b) => b.length - a.length);
  };
  for (const v of values) add(v);

  const send = (stream: MaskedStream, text: string): void => {
    if (text !== '') emit(stream, text);
  };

  return {
    add,
    write(stream, text) {
      if (sorted.length === 0 && pending[stream] === '') return send(stream, text);
      const { out, rest } = maskStreaming(pending[stream] + text, sorted, false);
      pending[stream] = rest;
      send(stream, out);
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const text = pending[stream];
        pending[stream] = '';
        send(stream, maskStreaming(text, sorted, true).out);
      }
    },
    mask: (text) => maskStreaming(text, sorted, true).out,
  };
}

/**
 * Leftmost-longest, non-overlapping replacement of `needles` (sorted longest first) in `text`.
 * Unless `final`, stops at the earliest position from which the rest of `text` could still grow into a
 * needle, and returns that tail as `rest`. Text emitted this way is exactly what masking the whole
 * stream at once would give, wherever the chunks were split.
 */
export function maskStreaming(
  text: string,
  needles: readonly string[],
  final: boolean,
): { out: string; rest: string } {
  if (needles.length === 0) return { out: text, rest: '' };
  // Next occurrence of each needle at or after `from`; -1 when none. Refreshed only when passed.
  const next = needles.map((n) => text.indexOf(n));
  let out = '';
  let i = 0;
  let hold = final ? text.length : earliestPrefixTail(text, 0, needles);
  for (;;) {
    // The earliest tail at or after i is still `hold` unless a match consumed past it.
    if (hold < i) hold = earliestPrefixTail(text, i, needles);
    let best = -1;
    let start = Infinity;
    for (let k = 0; k < needles.length; k++) {
      let at = next[k] ?? -1;
      if (at >= 0 && at < i) {
        at = text.indexOf(needles[k] ?? '', i);
        next[k] = at;
      }
      // Strictly smaller start wins; on a tie the earlier (longer) needle stays.
      if (at >= 0 && at < start) {
        start = at;
        best = k;
      }
    }
    if (best < 0 || start >= hold) {
      return { out: out + text.slice(i, hold), rest: text.slice(hold) };
    }
    out += text.slice(i, start) + MASK;
    i = start + (needles[best]?.length ?? 0);
  }
}

/**
 * The smallest p ≥ from such that text[p:] is a proper prefix of some needle (it may become that needle
 * with more text); text.length when there is none. Only the last (longest needle − 1) positions can qualify.
 */
function earliestPrefixTail(text: string, from: number, needles: readonly string[]): number {
  const longest = needles[0]?.length ?? 0;
  let best = text.length;
  for (const needle of needles) {
    const first = needle[0] ?? '';
    let p = text.indexOf(first, Math.max(from, text.length - needle.length + 1));
    while (p >= 0 && p < best) {
      if (needle.startsWith(text.slice(p))) {
        best = p;
        break;
      }
      p = text.indexOf(first, p + 1);
    }
    if (best <= Math.max(from, text.length - longest + 1)) break; // nothing can start earlier
  }
  return best;
}
