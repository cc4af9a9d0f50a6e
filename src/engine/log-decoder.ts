// Turns a process's raw output bytes into valid UTF-8 text chunks, as they arrive, with bounded memory.

export interface LogDecoder {
  /** Decodes what can be decoded now; an incomplete trailing character waits for the next write. */
  write(bytes: Uint8Array): void;
  /** Flushes a dangling partial character (as U+FFFD). */
  end(): void;
}

/** `emit` gets only non-empty text. At most 3 bytes of a partial character are held between writes. */
export function createLogDecoder(emit: (text: string) => void): LogDecoder {
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  // NUL would be refused by PostgreSQL text columns; it becomes U+FFFD like any other unusable byte.
  const send = (text: string): void => {
    if (text !== '') emit(text.replaceAll('\u0000', '\uFFFD'));
  };
  return {
    write: (bytes) => send(decoder.decode(bytes, { stream: true })),
    end: () => send(decoder.decode()),
  };
}
