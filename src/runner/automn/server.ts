// `baton runner serve`: the Automn runner's HTTP service (routes, statuses and error strings as upstream's
// runner 0.2.16 answers them; see docs/automn.md for every difference).

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Containment } from '../../engine/index.ts';
import { scriptBaseEnv, type ServeConfig } from './config.ts';
import { executeScript } from './execute.ts';
import { register, type RegistrationReason, type RegistrationResult } from './registration.ts';
import type { KeyPair } from '../../protocol/sealed.ts';
import type { AssignedTask } from '../../protocol/plan.ts';
import { loadIdentity, newIdentity, saveIdentity } from '../identity.ts';
import { batonTaskOf, controlDirOf, runBatonTask } from './baton-task.ts';

/** Upstream's JSON body limit (Express `1mb`). */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_RUN_ID_CHARS = 256;

/** Constant-time equality of two secrets of any lengths (both hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

interface State {
  secret?: string;
  registeredAt?: string | null;
  lastRegistrationAttempt?: string | null;
  lastRegistrationError?: string | null;
  lastRegistrationStatus?: 'ok' | 'error' | null;
  lastRegistrationResponse?: unknown;
}

/** Failed /internal/reset attempts allowed per window before every attempt is answered 429. */
const RESET_FAILURES_PER_WINDOW = 5;
const RESET_WINDOW_MS = 60_000;
const MIN_SECRET_CHARS = 12;

export interface ServeOptions {
  config: ServeConfig;
  env: NodeJS.ProcessEnv;
  containment?: Containment;
  graceMs: number;
}

export class AutomnRunner {
  readonly #c: ServeConfig;
  readonly #o: ServeOptions;
  #state: State = {};
  #running = 0;
  readonly #runIds = new Set<string>();
  readonly #aborts = new Set<AbortController>();
  #heartbeat: NodeJS.Timeout | undefined;
  #resetFailures: number[] = [];
  #keys: KeyPair | undefined;
  readonly server: Server;

  constructor(o: ServeOptions) {
    this.#o = o;
    this.#c = o.config;
    for (const dir of [this.#c.stateDir, this.#c.scriptsDir, this.#c.workDir])
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      this.#state = JSON.parse(readFileSync(this.#statePath(), 'utf8')) as State;
    } catch {
      this.#state = {};
    }
    this.server = createServer((req, res) => {
      this.#route(req, res).catch((error: unknown) => {
        if (!res.headersSent && error instanceof BodyTooLarge) json(res, 413, { error: error.message });
        else if (!res.headersSent) json(res, 500, { error: 'Runner internal error' });
        else res.end();
      });
    });
  }

  #statePath(): string {
    return join(this.#c.stateDir, 'runner-state.json');
  }

  #saveState(): void {
    writeFileSync(this.#statePath(), JSON.stringify(this.#state, null, 2), { mode: 0o600 });
  }

  /**
   * The runner's X25519 key pair (runner/identity.ts): made in the state dir (mode 0600, hidden from scripts) on
   * first start, read on every later one. Its public half goes to the host in every registration; a Baton host
   * seals a task's secrets to it.
   */
  async loadKeys(): Promise<KeyPair> {
    if (this.#keys) return this.#keys;
    const owner = this.#c.runnerId === '' ? 'automn-runner' : this.#c.runnerId;
    const loaded = loadIdentity(this.#c.stateDir, owner);
    if (loaded) this.#keys = loaded.keys;
    else {
      const keys = await newIdentity();
      saveIdentity(this.#c.stateDir, owner, keys);
      this.#keys = keys;
    }
    return this.#keys;
  }

  get secret(): string | undefined {
    return this.#c.envSecret ?? this.#state.secret;
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/api/run') return this.#run(req, res);
    if (req.method === 'GET' && path === '/status') return json(res, 200, this.status());
    if (req.method === 'GET' && path === '/') return this.#page(res, 200);
    if (req.method === 'GET' && path === '/ui/reregister') {
      if (!this.#canRegister())
        return this.#page(res, 400, { kind: 'error', text: 'Runner is not fully configured.' });
      await this.registerNow('manual');
      return this.#page(res, 200, { kind: 'success', text: 'Registration attempt sent to host.' });
    }
    if (req.method === 'POST' && path === '/ui/register') return this.#uiRegister(req, res);
    if (req.method === 'POST' && path === '/internal/reset') return this.#reset(req, res);
    json(res, 404, { error: 'Not found' });
  }

  status(): Record<string, unknown> {
    const c = this.#c;
    return {
      runner: {
        runnerId: c.runnerId === '' ? null : c.runnerId,
        hostUrl: c.hostUrl === '' ? null : c.hostUrl,
        endpointUrl: c.endpointUrl === '' ? null : c.endpointUrl,
        secretConfigured: this.secret !== undefined,
        secretSource: c.envSecret !== undefined ? 'env' : this.#state.secret !== undefined ? 'state' : null,
        locked: this.#locked(),
        registeredAt: this.#state.registeredAt ?? null,
        lastRegistrationAttempt: this.#state.lastRegistrationAttempt ?? null,
        lastRegistrationError: this.#state.lastRegistrationError ?? null,
        lastRegistrationStatus: this.#state.lastRegistrationStatus ?? null,
        lastRegistrationResponse: this.#state.lastRegistrationResponse ?? null,
      },
      config: {
        endpointUrl: c.endpointUrl,
        hostUrl: c.hostUrl === '' ? null : c.hostUrl,
        runnerId: c.runnerId === '' ? null : c.runnerId,
        heartbeatInterval: c.heartbeatMs,
        scriptsDir: c.scriptsDir,
        workdirDir: c.workDir,
        secretManagedByEnv: c.envSecret !== undefined,
      },
    };
  }

  #locked(): boolean {
    return this.secret !== undefined && (this.#state.registeredAt ?? null) !== null;
  }

  #canRegister(): boolean {
    return (
      this.#c.hostUrl !== '' &&
      this.#c.runnerId !== '' &&
      this.#c.endpointUrl !== '' &&
      this.secret !== undefined
    );
  }

  /** One registration (or heartbeat); its outcome is kept in runner-state.json and shown by /status. */
  async registerNow(reason: RegistrationReason): Promise<RegistrationResult | undefined> {
    const secret = this.secret;
    if (!this.#canRegister() || secret === undefined) return undefined;
    this.#state.lastRegistrationAttempt = new Date().toISOString();
    const result = await register(this.#c, secret, reason, (await this.loadKeys()).publicKey);
    // A host that echoes the secret back must not put it into /status.
    const response = scrub(result.response, [secret, this.#c.resetToken]);
    this.#state.lastRegistrationResponse = response;
    if (result.ok) {
      this.#state.registeredAt = new Date().toISOString();
      this.#state.lastRegistrationError = null;
      this.#state.lastRegistrationStatus = 'ok';
    } else {
      this.#state.lastRegistrationError = result.error ?? null;
      this.#state.lastRegistrationStatus = 'error';
    }
    this.#saveState();
    return { ...result, response };
  }

  /** Registers at startup, then heartbeats every AUTOMN_RUNNER_HEARTBEAT_MS. */
  startHeartbeat(): void {
    void this.registerNow('startup');
    this.#heartbeat = setInterval(() => void this.registerNow('heartbeat'), this.#c.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Stops heartbeats and new runs; runs in flight are cancelled and still end with their result frame. */
  stop(): void {
    clearInterval(this.#heartbeat);
    this.server.close();
    for (const abort of this.#aborts) abort.abort();
  }

  async #uiRegister(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    if (this.#c.envSecret !== undefined)
      return this.#page(res, 403, {
        kind: 'error',
        text: 'Runner secret is managed via environment variables.',
      });
    const secret = (form.get('secret') ?? '').trim();
    if (secret === '') return this.#page(res, 400, { kind: 'error', text: 'Secret is required' });
    if (secret.length < MIN_SECRET_CHARS)
      return this.#page(res, 400, {
        kind: 'error',
        text: `Secret must be at least ${MIN_SECRET_CHARS} characters`,
      });
    this.#state.secret = secret;
    this.#state.registeredAt = null;
    this.#saveState();
    await this.registerNow('initial');
    return this.#page(res, 200, {
      kind: 'success',
      text: 'Registration request sent. Awaiting confirmation from host.',
    });
  }

  async #reset(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const token = this.#c.resetToken;
    if (token === undefined) return json(res, 404, { error: 'Reset endpoint disabled' });
    const now = Date.now();
    this.#resetFailures = this.#resetFailures.filter((t) => now - t < RESET_WINDOW_MS);
    if (this.#resetFailures.length >= RESET_FAILURES_PER_WINDOW)
      return json(res, 429, { error: 'Too many failed reset attempts; try again later' });
    const body = jsonObject(raw);
    if (body === undefined) return json(res, 500, { error: 'Runner internal error' });
    if (typeof body.token !== 'string' || !sameSecret(body.token, token)) {
      this.#resetFailures.push(now);
      return json(res, 403, { error: 'Invalid reset token' });
    }
    const secret = typeof body.secret === 'string' ? body.secret.trim() : '';
    if (this.#c.envSecret !== undefined)
      return json(res, 400, {
        error: `Runner secret is managed via environment variables and cannot be ${secret === '' ? 'cleared' : 'changed'}`,
      });
    if (secret === '') {
      this.#state = { lastRegistrationAttempt: this.#state.lastRegistrationAttempt ?? null };
      this.#saveState();
      return json(res, 200, { reset: true, secretCleared: true, runner: this.status().runner });
    }
    if (secret.length < MIN_SECRET_CHARS)
      return json(res, 400, { error: `Secret must be at least ${MIN_SECRET_CHARS} characters` });
    this.#state.secret = secret;
    this.#state.registeredAt = null;
    this.#saveState();
    const registrationResult = (await this.registerNow('secret-rotation')) ?? null;
    return json(res, 200, {
      reset: true,
      secretUpdated: true,
      registration: this.status().runner,
      registrationResult:
        registrationResult === null
          ? null
          : {
              ok: registrationResult.ok,
              response: registrationResult.response,
              ...(registrationResult.error === undefined ? {} : { error: registrationResult.error }),
            },
    });
  }

  /** The operator page: the secret form before registration, the status after (never the secret). */
  #page(res: ServerResponse, status: number, alert?: { kind: 'error' | 'success'; text: string }): void {
    const r = this.status().runner as Record<string, unknown>;
    const locked = this.#locked();
    const heading = locked
      ? 'Runner locked'
      : this.secret !== undefined
        ? 'Registration pending'
        : 'Register with Automn';
    const shown =
      alert ??
      (typeof r.lastRegistrationError === 'string' && !locked
        ? { kind: 'error' as const, text: r.lastRegistrationError }
        : undefined);
    const source =
      this.#c.envSecret !== undefined
        ? 'Environment'
        : this.#state.secret !== undefined
          ? 'Stored'
          : 'Not set';
    const cards: Array<[string, unknown]> = [
      ['Runner ID', r.runnerId],
      ['Host URL', r.hostUrl],
      ['Endpoint', r.endpointUrl],
      ['Secret source', source],
      ['Locked since', locked ? r.registeredAt : null],
      ['Last registration', r.lastRegistrationAttempt],
    ];
    const form =
      this.secret === undefined
        ? `<form method="post" action="/ui/register"><label>Runner secret <input type="password" name="secret" minlength="${MIN_SECRET_CHARS}" required></label><button type="submit">Register</button></form>`
        : '';
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>Automn Runner</title></head><body><h1>${heading}</h1>${
      shown === undefined ? '' : `<div class="alert alert-${shown.kind}">${escapeHtml(shown.text)}</div>`
    }<dl>${cards.map(([k, v]) => `<dt>${k}</dt><dd>${escapeHtml(v === null || v === undefined ? '–' : String(v))}</dd>`).join('')}</dl>${form}</body></html>`;
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
    });
    res.end(html);
  }

  async #run(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const secret = this.secret;
    if (secret === undefined) return json(res, 503, { error: 'Runner secret not configured' });
    const given = req.headers['x-automn-runner-secret'];
    if (typeof given !== 'string' || !sameSecret(given, secret))
      return json(res, 401, { error: 'Invalid runner secret' });
    if (this.#running >= this.#c.localMaxConcurrency)
      return json(res, 429, { error: 'Runner is at capacity' });
    const body = jsonObject(raw);
    if (body === undefined) return json(res, 500, { error: 'Runner internal error' });
    const script = body.script;
    if (script === null || typeof script !== 'object' || Array.isArray(script))
      return json(res, 400, { error: 'Script payload is required' });
    const runId = typeof body.runId === 'string' && body.runId !== '' ? body.runId : randomUUID();
    // Unlike upstream, a run id is bounded and unique among the runs in flight (it names the run's log lines
    // on the host and is the script's AUTOMN_RUN_ID).
    if (runId.length > MAX_RUN_ID_CHARS)
      return json(res, 400, {
        error: `runId is ${runId.length} characters; the limit is ${MAX_RUN_ID_CHARS}`,
      });
    if (this.#runIds.has(runId)) return json(res, 409, { error: `Run ${runId} is already running` });
    // A Baton host's extension (docs/adr/0013): the task itself, run as a pull runner runs it.
    let baton: { task: AssignedTask } | undefined;
    if (body.baton !== undefined) {
      const parsed = batonTaskOf(body.baton);
      if ('error' in parsed) return json(res, 400, { error: parsed.error });
      baton = parsed;
    }
    const keys = this.#keys;
    if (keys === undefined) return json(res, 503, { error: 'Runner is starting' });
    this.#runIds.add(runId);
    const input = body.reqBody === undefined || body.reqBody === null ? {} : structuredClone(body.reqBody);
    this.#running++;
    const abort = new AbortController();
    this.#aborts.add(abort);
    try {
      // The host hanging up mid-run cancels the run: the engine signals the whole process group.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      res.writeHead(200, {
        'content-type': 'application/jsonl; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
      });
      res.flushHeaders();
      const onLine = (line: string) => {
        if (!res.destroyed) res.write(`${JSON.stringify({ type: 'log', line })}\n`);
      };
      const run =
        baton === undefined
          ? executeScript({
              runId,
              script: script as Record<string, unknown>,
              input,
              workRoot: this.#c.workDir,
              baseEnv: scriptBaseEnv(this.#o.env, [secret, this.#c.resetToken]),
              mask: [secret, this.#c.resetToken ?? ''],
              hide: [this.#c.stateDir, this.#c.scriptsDir],
              ...(this.#o.containment === undefined ? {} : { containment: this.#o.containment }),
              graceMs: this.#o.graceMs,
              signal: abort.signal,
              stdoutMarkers: this.#c.stdoutMarkers,
              onLine,
            })
          : runBatonTask({
              runId,
              task: baton.task,
              input,
              keys,
              runnerName: this.#c.runnerId,
              workRoot: this.#c.workDir,
              controlDir: controlDirOf(this.#c.stateDir),
              baseEnv: scriptBaseEnv(this.#o.env, [secret, this.#c.resetToken]),
              mask: [secret, this.#c.resetToken ?? ''],
              hide: [this.#c.stateDir, this.#c.scriptsDir],
              ...(this.#o.containment === undefined ? {} : { containment: this.#o.containment }),
              graceMs: this.#o.graceMs,
              signal: abort.signal,
              onLine,
            });
      const result = await run.catch((error: unknown) => ({
        // The machine failed (e.g. the work dir is not writable): still exactly one result, naming why.
        runId,
        stdout: '',
        stderr: `Baton runner failed: ${(error as Error).message}`,
        code: 1,
        duration: 0,
        returnData: null,
        automnLogs: [],
        automnNotifications: [],
        input,
      }));
      if (!res.destroyed) res.end(`${JSON.stringify({ type: 'result', data: result })}\n`);
    } finally {
      this.#running--;
      this.#runIds.delete(runId);
      this.#aborts.delete(abort);
    }
  }

  /** Reads (or makes, on first start) the key pair, then listens. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await this.loadKeys();
    return new Promise((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        const addr = this.server.address();
        done(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `value` with every occurrence of each secret replaced by `***`. */
function scrub(value: unknown, secrets: Array<string | undefined>): unknown {
  let text = JSON.stringify(value ?? null);
  for (const s of secrets)
    if (s !== undefined && s !== '') text = text.split(JSON.stringify(s).slice(1, -1)).join('***');
  return JSON.parse(text) as unknown;
}

/** A request body as upstream reads it: empty is `{}`, a non-object is `{}`, malformed JSON is undefined (its 500). */
function jsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(raw === '' ? '{}' : raw) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A request body over MAX_BODY_BYTES: answered 413 once the whole body has arrived. */
class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES)
        fail(new BodyTooLarge(`request body of ${size} bytes is over the limit of ${MAX_BODY_BYTES} bytes`));
      else done(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', fail);
  });
}
