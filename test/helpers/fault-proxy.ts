// A TCP proxy of our own (node:net) in front of a server, for network faults on one machine: `tc netem` is
// not available on this kernel. Modes switch at runtime and apply to existing connections as well:
//   pass      — bytes flow both ways.
//   blackhole — connections are accepted and held; nothing is forwarded either way. Bytes written meanwhile are
//               held back and delivered when the link comes back (as TCP retransmission would); a connection
//               whose end gave up during the blackhole is dropped instead.
//   reset     — every connection, existing and new, is destroyed with a TCP RST.
//   trickle   — at most `trickleBytes` per direction per `trickleIntervalMs` tick.
// dropNextOffer() arms a one-shot fault: the first `200` answer to `POST …/acquire` is swallowed and both sides
// are reset, i.e. the server committed an offer the runner never saw.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'reset' | 'trickle';

export interface FaultProxyOptions {
  /** The server's URL (`http://127.0.0.1:PORT`). */
  target: string;
  /** Bytes per direction per tick in trickle mode (default 64). */
  trickleBytes?: number;
  /** Tick of the trickle mode (default 50 ms). */
  trickleIntervalMs?: number;
}

export interface FaultProxyEvent {
  at: number;
  what: string;
}

/** One request seen through the proxy and the server's answer (recorded when the answer left the server). */
export interface FaultProxyExchange {
  path: string;
  sentAt: number;
  status?: number;
  /** The error envelope's `code`, when the answer carried one in its first packet. */
  code?: string;
  answeredAt?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT` of the proxy: give this to runners. */
  url: string;
  port: number;
  readonly mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  /** Resolves (with the time, performance.now()) once an acquire offer was swallowed and its connection reset. */
  dropNextOffer(): Promise<number>;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  /** Everything the proxy did that a test may want to see (mode changes, swallowed offers). */
  readonly events: FaultProxyEvent[];
  /** Every HTTP request that went through, with its answer's status (time: performance.now()). */
  readonly exchanges: FaultProxyExchange[];
  close(): Promise<void>;
}

/** Held-back bytes per direction are bounded; past this the source is paused (TCP back-pressure). */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

interface Direction {
  from: Socket;
  to: Socket;
  held: Buffer[];
  heldBytes: number;
  /** The sending side finished (FIN or close); the end travels like data, after what was held. */
  ended: boolean;
  endSent: boolean;
}

interface Pair {
  id: number;
  client: Socket;
  upstream: Socket;
  up: Direction;
  down: Direction;
  /** Path of the last request seen on this connection (for offer detection). */
  lastRequestPath: string;
  /** Requests on this connection still waiting for their answer (HTTP/1.1: answered in order). */
  waiting: FaultProxyExchange[];
  dead: boolean;
}

const REQUEST_LINE = /(?:^|\r\n)(?:GET|POST|PUT|DELETE|PATCH|HEAD) (\S+) HTTP\/1\.[01]\r\n/g;

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(o.target);
  const targetPort = Number(target.port);
  const targetHost = target.hostname.replace(/^\[|\]$/g, '');
  const trickleBytes = o.trickleBytes ?? 64;
  const pairs = new Set<Pair>();
  const events: FaultProxyEvent[] = [];
  const exchanges: FaultProxyExchange[] = [];
  let mode: ProxyMode = 'pass';
  let nextId = 0;
  let offerDrop: { resolve: (at: number) => void } | undefined;
  let trickleTimer: NodeJS.Timeout | undefined;

  const note = (what: string) => events.push({ at: performance.now(), what });

  const kill = (p: Pair, rst: boolean) => {
    p.dead = true;
    pairs.delete(p);
    for (const s of [p.client, p.upstream]) {
      if (s.destroyed) continue;
      // resetAndDestroy needs a connected socket; one still connecting is just destroyed.
      if (rst && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
  };

  /** Delivers what `d` holds: everything in pass mode, `budget` bytes per tick in trickle mode. */
  const pump = (p: Pair, d: Direction, budget = Infinity) => {
    if (p.dead || d.to.connecting) return;
    if (d.to.destroyed) {
      d.held = [];
      d.heldBytes = 0;
      return;
    }
    while (d.held.length > 0 && budget > 0) {
      const head = d.held[0]!;
      const n = Math.min(head.length, budget);
      d.to.write(head.subarray(0, n));
      budget -= n;
      d.heldBytes -= n;
      if (n === head.length) d.held.shift();
      else d.held[0] = head.subarray(n);
    }
    if (d.heldBytes < MAX_HELD_BYTES && d.from.isPaused() && !d.from.destroyed) d.from.resume();
    if (d.held.length === 0 && d.ended && !d.endSent) {
      d.endSent = true;
      d.to.end();
    }
  };

  const flowAll = () => {
    for (const p of [...pairs]) {
      pump(p, p.up);
      pump(p, p.down);
    }
  };

  const onData = (p: Pair, d: Direction, chunk: Buffer) => {
    if (p.dead) return;
    if (d === p.up) {
      for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        p.lastRequestPath = m[1]!;
        const x: FaultProxyExchange = { path: m[1]!, sentAt: performance.now() };
        exchanges.push(x);
        p.waiting.push(x);
      }
    } else if (chunk.subarray(0, 9).toString('latin1') === 'HTTP/1.1 ') {
      const head = chunk.subarray(0, 2048).toString('utf8');
      const x = p.waiting.shift();
      if (x) {
        x.status = Number(head.slice(9, 12));
        x.answeredAt = performance.now();
        const code = /"code":"([a-z_]+)"/.exec(head);
        if (code) x.code = code[1];
      }
    }
    if (
      d === p.down &&
      offerDrop &&
      p.lastRequestPath.includes('/runner/acquire') &&
      chunk.subarray(0, 12).toString('latin1') === 'HTTP/1.1 200'
    ) {
      // The server committed the offer and answered; the runner never hears of it.
      const drop = offerDrop;
      offerDrop = undefined;
      note(`swallowed an acquire offer on connection ${p.id} and reset it`);
      kill(p, true);
      drop.resolve(performance.now());
      return;
    }
    d.held.push(chunk);
    d.heldBytes += chunk.length;
    if (d.heldBytes >= MAX_HELD_BYTES) d.from.pause();
    if (mode === 'pass') pump(p, d);
  };

  const onEnd = (p: Pair, d: Direction) => {
    d.ended = true;
    if (mode === 'pass') pump(p, d);
  };

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort, allowHalfOpen: true });
    const dir = (from: Socket, to: Socket): Direction => ({
      from,
      to,
      held: [],
      heldBytes: 0,
      ended: false,
      endSent: false,
    });
    const p: Pair = {
      id: nextId++,
      client,
      upstream,
      up: dir(client, upstream),
      down: dir(upstream, client),
      lastRequestPath: '',
      waiting: [],
      dead: false,
    };
    pairs.add(p);
    upstream.once('connect', () => {
      if (mode === 'pass') pump(p, p.up);
    });
    client.on('data', (c: Buffer) => onData(p, p.up, c));
    upstream.on('data', (c: Buffer) => onData(p, p.down, c));
    client.on('end', () => onEnd(p, p.up));
    upstream.on('end', () => onEnd(p, p.down));
    // The runner's side went away (HTTP clients close by destroying the socket): nothing left to deliver.
    client.on('error', () => kill(p, false));
    client.on('close', () => kill(p, false));
    // The server's side failed (reset, refused while it is down): the client sees it too, unless the link is
    // down, in which case it only learns when the link is back.
    upstream.on('error', () => {
      if (mode === 'blackhole') p.down.ended = true;
      else kill(p, true);
    });
    upstream.on('close', () => onEnd(p, p.down));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    get openConnections() {
      return pairs.size;
    },
    events,
    exchanges,
    setMode(next: ProxyMode) {
      if (trickleTimer) clearInterval(trickleTimer);
      trickleTimer = undefined;
      mode = next;
      note(`mode ${next}`);
      if (next === 'reset') for (const p of [...pairs]) kill(p, true);
      else if (next === 'pass') flowAll();
      else if (next === 'trickle') {
        trickleTimer = setInterval(() => {
          for (const p of [...pairs]) {
            pump(p, p.up, trickleBytes);
            pump(p, p.down, trickleBytes);
          }
        }, o.trickleIntervalMs ?? 50);
        trickleTimer.unref();
      }
    },
    dropNextOffer() {
      return new Promise<number>((resolve) => {
        offerDrop = { resolve };
      });
    },
    async close() {
      if (trickleTimer) clearInterval(trickleTimer);
      for (const p of [...pairs]) kill(p, false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
