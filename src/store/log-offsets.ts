// Log chunks of one attempt tile its log: chunk `seq` starts where chunk `seq - 1` ended, and chunk 0 at byte 0.
// A chunk that contradicts that — a resent seq at another offset, or an offset that does not meet its
// neighbours — is refused with `log_offset_conflict` (409) naming both offsets, instead of
// being stored into a corrupt log (issue 12, finding 8). A resent seq at its stored offset is a retry: the
// stored chunk wins and the resend is ignored. Checked inside the append's transaction.
//
// A chunk in a log file (docs/adr/0021-log-bytes.md) has its exact length in its index row. A chunk stored as a
// text row has NUL replaced by U+FFFD (`withoutNul`: 1 byte becomes 3), so its original length is only known
// to lie between its byte length minus 2 per U+FFFD and its byte length; a neighbour holding U+FFFD is
// checked against that range.
import { sql, type Transaction } from 'kysely';
import { BatonError } from '../protocol/errors.ts';
import type { LogBytesChunk } from './logs.ts';
import type { Database } from './schema.ts';

interface Extent {
  seq: number;
  offset: number;
  /** Fewest and most bytes the chunk had as the runner sent it. */
  minBytes: number;
  maxBytes: number;
  bytes?: Buffer;
}

function conflict(message: string, details: Record<string, number>): BatonError {
  return new BatonError('log_offset_conflict', message, details);
}

/**
 * Throws `log_offset_conflict` when `chunks` contradict each other or the chunks stored for the attempt;
 * otherwise answers the chunks not stored yet (once each, in seq order): a resent chunk is acknowledged, not
 * stored twice.
 */
export async function checkLogOffsets(
  tx: Transaction<Database>,
  taskId: string,
  attempt: number,
  chunks: readonly LogBytesChunk[],
): Promise<LogBytesChunk[]> {
  if (chunks.length === 0) return [];
  const incoming = new Map<number, Extent>();
  const fresh = new Map<number, LogBytesChunk>();
  for (const c of [...chunks].sort((x, y) => x.seq - y.seq)) {
    const n = c.bytes.length;
    const e: Extent = { seq: c.seq, offset: c.offset, minBytes: n, maxBytes: n, bytes: c.bytes };
    const same = incoming.get(c.seq);
    if (same && (same.offset !== c.offset || !same.bytes!.equals(c.bytes)))
      throw conflict(
        `log chunk ${c.seq} was sent twice in one request, at offsets ${same.offset} and ${c.offset}`,
        { seq: c.seq, offset: c.offset, storedOffset: same.offset },
      );
    incoming.set(c.seq, e);
    fresh.set(c.seq, c);
  }
  const seqs = new Set<number>();
  for (const s of incoming.keys()) for (const n of [s - 1, s, s + 1]) if (n >= 0) seqs.add(n);
  const rows = await tx
    .selectFrom('log_chunks')
    .select([
      'seq',
      'offset',
      'length',
      sql<number>`octet_length(data)`.as('bytes'),
      sql<number>`length(data) - length(replace(data, ${'\uFFFD'}, ''))`.as('replaced'),
    ])
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt)
    .where('seq', 'in', [...seqs])
    .execute();
  const stored = new Map<number, Extent>(
    rows.map((r) => {
      const bytes = Number(r.bytes);
      const exact = r.length === null ? undefined : Number(r.length);
      const extent = {
        seq: Number(r.seq),
        offset: Number(r.offset),
        minBytes: exact ?? bytes - 2 * Number(r.replaced),
        maxBytes: exact ?? bytes,
      };
      return [extent.seq, extent];
    }),
  );

  for (const c of incoming.values()) {
    const old = stored.get(c.seq);
    if (old && old.offset !== c.offset)
      throw conflict(
        `log chunk ${c.seq} at offset ${c.offset} contradicts the stored chunk ${c.seq} at offset ${old.offset}`,
        { seq: c.seq, offset: c.offset, storedOffset: old.offset },
      );
    if (old) {
      fresh.delete(c.seq); // a resend at the same offset: the stored chunk stays, this one is ignored
      continue;
    }
    if (c.seq === 0 && c.offset !== 0)
      throw conflict(`log chunk 0 must start at offset 0, not ${c.offset}`, {
        seq: 0,
        offset: c.offset,
        storedOffset: 0,
      });
    const prev = stored.get(c.seq - 1) ?? incoming.get(c.seq - 1);
    if (prev && (c.offset < prev.offset + prev.minBytes || c.offset > prev.offset + prev.maxBytes))
      throw conflict(
        `log chunk ${c.seq} at offset ${c.offset} does not follow chunk ${prev.seq}, which starts at offset ${prev.offset} and ends at ${prev.offset + prev.maxBytes}`,
        { seq: c.seq, offset: c.offset, storedOffset: prev.offset },
      );
    const next = incoming.has(c.seq + 1) ? undefined : stored.get(c.seq + 1);
    if (next && (next.offset < c.offset + c.minBytes || next.offset > c.offset + c.maxBytes))
      throw conflict(
        `log chunk ${c.seq} at offset ${c.offset} ends at ${c.offset + c.maxBytes}, but the stored chunk ${next.seq} starts at offset ${next.offset}`,
        { seq: c.seq, offset: c.offset, storedOffset: next.offset },
      );
  }
  return [...fresh.values()];
}
