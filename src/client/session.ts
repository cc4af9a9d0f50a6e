// The runner's end of the runner session (protocol/session.ts holds the contract): a client whose acquire,
// start, heartbeat and complete travel as frames on one WebSocket when the server offers one, and as the HTTP
// calls otherwise — the same answers and the same errors (ApiError with the server's status and code,
// NetworkError when the link fails), so the agent's retry and fencing decisions do not change.
import { WebSocket } from 'ws';
import type { AcquireResponse, CompleteBody, CompleteResponse, LeaseResponse } from '../protocol/api.ts';
import { SESSION_PATH, SESSION_PROTOCOL, type RunnerFrame, type ServerFrame } from '../protocol/session.ts';
import { ApiError, NetworkError } from './http.ts';
import { createBackoff } from './retry.ts';
import type { BatonClient } from './index.ts';

/** How long a connection attempt may take before calls go over HTTP while it goes on. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Reconnect backoff after a lost session: from 250 ms, doubling, at most 5 s (a server restart is seconds). */
const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/** After a call went unanswered, a link that answers no ping within this long is dropped. */
const LINK_CHECK_MS = 3_000;

export type SessionState = 'connecting' | 'open' | 'closed' | 'unsupported';

export interface RunnerSessionOptions {
  /** A state change: opened, lost (with why), or refused by the server for good (with why). */
  onState?: (state: SessionState, why?: string) => void;
}

/** The runner client with the session under it; `completeAndAcquire` exists only on a session client. */
export type SessionClient = BatonClient & {
  /**
   * Completes and, in the same frame, asks for the next offer for this slot (over the session only; over HTTP
   * `next` is absent and the caller acquires as usual).
   */
  completeAndAcquire(
    lease: string,
    body: CompleteBody,
    timeoutMs: number,
    next: { waitMs: number; signal?: AbortSignal },
  ): Promise<CompleteResponse & { next?: Promise<AcquireResponse | undefined> }>;
};

export interface RunnerSession {
  client: SessionClient;
  readonly state: SessionState;
  /** Closes the session for good (the runner stops); later calls go over HTTP. */
  close(): void;
}

interface Pending {
  resolve: (f: ServerFrame) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export function openRunnerSession(http: BatonClient, o: RunnerSessionOptions = {}): RunnerSession {
  const bases = http.http.baseUrl
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  let baseIndex = 0;
  let state: SessionState = 'closed';
  let ws: WebSocket | undefined;
  let connecting: Promise<void> | undefined;
  let closedForGood = false;
  let firstAttempt: Promise<void> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  let linkCheck: NodeJS.Timeout | undefined;
  const pending = new Map<number, Pending>();
  const backoff = createBackoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS);

  const setState = (s: SessionState, why?: string) => {
    if (s === state) return;
    state = s;
    o.onState?.(s, why);
  };

  function connect(): Promise<void> {
    if (connecting) return connecting;
    const base = bases[baseIndex % bases.length]!;
    const url = new URL(SESSION_PATH.slice(1), base.endsWith('/') ? base : base + '/');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    setState('connecting');
    const socket = new WebSocket(url, [SESSION_PROTOCOL], {
      headers: {
        ...(http.http.token ? { authorization: `Bearer ${http.http.token}` } : {}),
        ...(http.http.userAgent ? { 'user-agent': http.http.userAgent } : {}),
      },
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      // Frames are small JSON and many; compressing each costs more CPU than the loopback bytes it saves.
      perMessageDeflate: false,
    });
    connecting = new Promise<void>((settle) => {
      socket.once('open', () => {
        ws = socket;
        backoff.reset();
        setState('open');
        settle();
      });
      socket.once('unexpected-response', (_req, res) => {
        // An older server has no session (404), speaks another version of it (400), or gives none to this
        // runner (409: an ephemeral one): HTTP from now on. Any other answer (401, 5xx) is worth another try
        // later; meanwhile the HTTP calls report it.
        const status = res.statusCode ?? 0;
        res.resume();
        socket.terminate();
        if (status === 404 || status === 400 || status === 409) {
          closedForGood = true;
          setState('unsupported', `the server answered ${status} to the session upgrade`);
        }
      });
      const heard = () => {
        clearTimeout(linkCheck);
        linkCheck = undefined;
      };
      socket.on('pong', heard);
      socket.on('message', (data, isBinary) => {
        heard();
        if (isBinary) return;
        let frame: ServerFrame;
        try {
          frame = JSON.parse(String(data)) as ServerFrame;
        } catch {
          return socket.terminate();
        }
        if (frame.id === undefined) return; // The server explains why it closes; 'close' follows.
        const p = pending.get(frame.id);
        if (!p) return;
        pending.delete(frame.id);
        clearTimeout(p.timer);
        p.resolve(frame);
      });
      socket.on('error', () => undefined); // 'close' follows and says what matters
      socket.once('close', (code, reason) => {
        settle();
        heard();
        connecting = undefined;
        if (ws === socket) ws = undefined;
        const why = `session closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`;
        for (const [id, p] of pending) {
          pending.delete(id);
          clearTimeout(p.timer);
          p.reject(new NetworkError(`cannot reach ${base}: ${why}`));
        }
        if (closedForGood) return;
        setState('closed', why);
        baseIndex++;
        reconnectTimer = setTimeout(() => {
          reconnectTimer = undefined;
          void connect();
        }, backoff.next());
        reconnectTimer.unref();
      });
    });
    return connecting;
  }

  /**
   * The open session, or undefined: use HTTP. Only the first connection attempt is waited for (the runner's
   * first acquire); while a lost session reconnects, calls go over HTTP at once, so a lease renewal never
   * waits on a handshake through a dead link.
   */
  async function session(): Promise<WebSocket | undefined> {
    if (closedForGood) return undefined;
    firstAttempt ??= connect();
    await firstAttempt;
    return ws?.readyState === WebSocket.OPEN ? ws : undefined;
  }

  /**
   * A call went unanswered: one slow answer is no proof of a dead link (a loaded server answers late, and the
   * other calls on the session are fine), so the link is checked with a ping; no pong within LINK_CHECK_MS (or
   * twice the call's timeout) ends the session, and the calls after it go over HTTP while it reconnects.
   */
  function checkLink(socket: WebSocket, timeoutMs: number): void {
    if (linkCheck !== undefined || socket.readyState !== WebSocket.OPEN) return;
    linkCheck = setTimeout(() => socket.terminate(), Math.max(LINK_CHECK_MS, 2 * timeoutMs));
    linkCheck.unref();
    socket.ping();
  }

  /** Waits for the answer with `id`; `frame`, when given, is the call to send. */
  function call(
    socket: WebSocket,
    frame: RunnerFrame | undefined,
    id: number,
    timeoutMs: number,
  ): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new NetworkError(`no answer on the runner session within ${timeoutMs} ms`));
        checkLink(socket, timeoutMs);
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      if (frame) socket.send(JSON.stringify(frame));
    });
  }

  function answer<T>(f: ServerFrame): T {
    if (f.t === 'error') throw new ApiError(f.status, f.error.code, f.error.message, f.error);
    if (f.t === 'ok') return f.body as T;
    throw new NetworkError(`unexpected '${f.t}' answer on the runner session`);
  }

  function offerOf(f: ServerFrame): AcquireResponse | undefined {
    if (f.t === 'offer') return f.offer;
    if (f.t === 'idle') return undefined;
    return answer<never>(f);
  }

  function watchAbort(socket: WebSocket, signal: AbortSignal | undefined): () => void {
    if (!signal) return () => undefined;
    // Aborted when the runner stops taking work: every held acquire of this session ends (answered `idle`).
    const onAbort = () => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ t: 'release' }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  const client: SessionClient = {
    ...http,
    async acquire(capacity: number, waitMs: number, signal?: AbortSignal) {
      const socket = await session();
      if (!socket || signal?.aborted) return http.acquire(capacity, waitMs, signal);
      const id = nextId++;
      const unwatch = watchAbort(socket, signal);
      try {
        return offerOf(await call(socket, { t: 'acquire', id, waitMs }, id, waitMs + 10_000));
      } finally {
        unwatch();
      }
    },
    async start(lease: string, timeoutMs?: number) {
      const socket = await session();
      if (!socket) return http.start(lease, timeoutMs);
      const id = nextId++;
      return answer<LeaseResponse>(await call(socket, { t: 'start', id, lease }, id, timeoutMs ?? 30_000));
    },
    async heartbeat(lease: string, timeoutMs?: number) {
      const socket = await session();
      if (!socket) return http.heartbeat(lease, timeoutMs);
      const id = nextId++;
      return answer<LeaseResponse>(
        await call(socket, { t: 'heartbeat', id, lease }, id, timeoutMs ?? 30_000),
      );
    },
    async complete(lease: string, body: CompleteBody, timeoutMs?: number) {
      const socket = await session();
      if (!socket) return http.complete(lease, body, timeoutMs);
      const id = nextId++;
      return answer<CompleteResponse>(
        await call(socket, { t: 'complete', id, lease, body }, id, timeoutMs ?? 30_000),
      );
    },
    async completeAndAcquire(lease, body, timeoutMs, next) {
      const socket = await session();
      if (!socket || next.signal?.aborted) return http.complete(lease, body, timeoutMs);
      const id = nextId++;
      const nextCall = nextId++;
      // Registered before the complete is sent: its answer may follow the complete's at once.
      const unwatch = watchAbort(socket, next.signal);
      const offer = call(socket, undefined, nextCall, timeoutMs + next.waitMs + 10_000)
        .then(offerOf)
        .finally(unwatch);
      try {
        const res = answer<CompleteResponse>(
          await call(
            socket,
            { t: 'complete', id, lease, body, next: { id: nextCall, waitMs: next.waitMs } },
            id,
            timeoutMs,
          ),
        );
        // Handled here too: should the session drop before the slot awaits it, no rejection goes unhandled.
        offer.catch(() => undefined);
        return { ...res, next: offer };
      } catch (err) {
        // The server answers `idle` for the acquire of a refused complete, or the session closed: either way
        // the caller acquires on its own.
        offer.catch(() => undefined);
        throw err;
      }
    },
  };

  return {
    client,
    get state() {
      return state;
    },
    close() {
      closedForGood = true;
      clearTimeout(reconnectTimer);
      ws?.close(1000, 'the runner stops');
      setState('closed', 'closed by the runner');
    },
  };
}
