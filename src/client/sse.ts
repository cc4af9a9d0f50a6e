// Reads a server-sent event stream from a fetch Response as an async iterator of {event, data, id}.
import { ApiError } from './http.ts';

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export async function* readSse(res: Response): AsyncGenerator<SseMessage> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) };
        event = 'message';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  }
}

/**
 * The error a stream's final `error` event stands for: the server ended the stream on purpose (its token was
 * revoked or expired), so following it again with the same token cannot work. Callers throw it, never reconnect.
 */
export function streamEndedError(m: SseMessage): ApiError {
  let reason = 'stream_error';
  let message = 'the server ended the stream';
  try {
    const body = JSON.parse(m.data) as { reason?: unknown; message?: unknown };
    if (typeof body.reason === 'string') reason = body.reason;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON: keep the generic sentence.
  }
  const auth = reason === 'token_revoked' || reason === 'token_expired';
  return new ApiError(auth ? 401 : 500, auth ? 'unauthenticated' : 'internal', `${message} [${reason}]`, {
    reason,
  });
}
