// Replays the recorded Automn runner fixtures (../shared/fixtures/automn/runner-*.json) against a real
// `baton runner serve` process: statuses, error bodies byte for byte, frame and result field names and types,
// codes and values (never timings, timestamps or generated ids).
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  fixture,
  frames,
  PLACEHOLDERS,
  send,
  startServeRunner,
  type FixtureRequest,
  type Frame,
} from '../helpers/automn-runner.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

const SECRET = PLACEHOLDERS['{{RUNNER_SECRET}}']!;
const TOKEN = PLACEHOLDERS['{{RESET_TOKEN}}']!;

interface Exchange {
  name?: string;
  request: FixtureRequest;
  response: {
    status: number;
    headers: Record<string, string>;
    bodyText?: string;
    frames?: Frame[];
    body?: unknown;
  };
}

const RESULT_FIELDS = [
  'runId',
  'stdout',
  'stderr',
  'code',
  'duration',
  'returnData',
  'automnLogs',
  'automnNotifications',
  'input',
];

/** `v` with the values that vary between recordings (timestamps, durations) replaced by their type. */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, ['timestamp', 'duration'].includes(k) ? typeof x : stable(x)]),
    );
  return v;
}

/**
 * The timeout fixture's script prints a tick every 0.4 s under a 1 s timeout: upstream got 3 ticks in, a loaded
 * machine (bash starting late) may get 1 or 2. How many is timing, not behaviour: the fixture is cut to the
 * ticks that arrived (at least one, in order), and everything else is compared as recorded.
 */
function sameTicks(want: Frame[], got: Frame[]): Frame[] {
  const isTick = (fr: Frame) => fr.type === 'log' && /^tick-\d+\n$/.test(fr.line ?? '');
  const n = got.filter(isTick).length;
  expect(n).toBeGreaterThanOrEqual(1);
  expect(n).toBeLessThanOrEqual(want.filter(isTick).length);
  const ticks = want.filter(isTick).slice(0, n);
  const result = want.at(-1)!;
  const stdout = ticks.map((fr) => fr.line!.trimEnd()).join('\n');
  return [
    ...ticks,
    ...want.filter((fr) => fr.type === 'log' && !isTick(fr)),
    { ...result, data: { ...result.data!, stdout } },
  ];
}

async function runAndCompare(base: string, file: string): Promise<Frame[]> {
  const f = fixture(file) as unknown as Exchange;
  const res = await send(base, f.request);
  expect(res.status).toBe(f.response.status);
  expect(res.headers.get('content-type')).toBe(f.response.headers['content-type']);
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  const got = frames(text);
  let want = f.response.frames!;
  if (file === 'runner-run-timeout.json') want = sameTicks(want, got);
  // Log frames, then exactly one result, last.
  expect(got.slice(0, -1).every((fr) => fr.type === 'log' && typeof fr.line === 'string')).toBe(true);
  expect(got.at(-1)?.type).toBe('result');
  const result = got.at(-1)!.data!;
  const wanted = want.at(-1)!.data!;
  expect(Object.keys(result)).toEqual(RESULT_FIELDS);
  for (const k of RESULT_FIELDS) expect(typeof result[k], k).toBe(typeof wanted[k]);
  const varies = file === 'runner-run-minimal.json' ? ['runId'] : [];
  const pick = (d: Record<string, unknown>) =>
    stable(Object.fromEntries(Object.entries(d).filter(([k]) => !varies.includes(k))));
  expect(pick(result)).toEqual(pick(wanted));
  // The same text as upstream's frames, as whole lines; stdout and stderr may interleave differently. The
  // script API travels out of band here, so upstream's marker lines are not in the log.
  const lines = (fs: Frame[]) =>
    fs
      .filter((fr) => fr.type === 'log')
      .map((fr) => fr.line)
      .join('')
      .split('\n')
      .filter((l) => !l.startsWith('__SCRIPT'))
      .sort();
  expect(lines(got)).toEqual(lines(want));
  return got;
}

describe('baton runner serve replays the Automn runner fixtures', () => {
  it('runs shell, python, node, exit 3, the minimal request and the real host request as upstream', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    for (const file of [
      'runner-run-shell.json',
      'runner-run-python.json',
      'runner-run-node.json',
      'runner-run-exit-nonzero.json',
      'runner-run-minimal.json',
      'runner-run-host-request.json',
    ])
      await runAndCompare(r.url, file);
  });

  it('times out as upstream: ticks, the "Timeout exceeded." frame, code 1', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const got = await runAndCompare(r.url, 'runner-run-timeout.json');
    expect(got.at(-2)).toEqual({ type: 'log', line: 'Timeout exceeded.\n' });
  });

  it('answers an unsupported language with a result, code 1 and "Unsupported language" (bash is supported here)', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const f = fixture('runner-run-unsupported-language.json') as unknown as Exchange;
    const body = f.request.body as { script: Record<string, unknown> };
    const res = await send(r.url, {
      ...f.request,
      body: { ...body, script: { ...body.script, language: 'cobol' } },
    });
    expect(res.status).toBe(200);
    expect(frames(await res.text())).toEqual(f.response.frames);
  });

  it('gives every /api/run error of the fixtures, in upstream check order, byte for byte', async () => {
    const f = fixture('runner-run-errors.json') as unknown as { exchanges: Exchange[] };
    const byName = (part: string) => f.exchanges.find((e) => e.name?.includes(part))!;
    const noSecret = await startServeRunner({ AUTOMN_RUNNER_LOCAL_MAX_CONCURRENCY: '1' });
    for (const e of f.exchanges.filter((x) => x.response.status === 503)) {
      const res = await send(noSecret.url, e.request);
      expect([e.name, res.status, await res.text()]).toEqual([e.name, 503, e.response.bodyText]);
    }
    const r = await startServeRunner({
      AUTOMN_RUNNER_SECRET: SECRET,
      AUTOMN_RUNNER_LOCAL_MAX_CONCURRENCY: '1',
    });
    for (const e of f.exchanges.filter((x) => [400, 401, 500].includes(x.response.status))) {
      const res = await send(r.url, e.request);
      expect([e.name, res.status, res.headers.get('content-type'), await res.text()]).toEqual([
        e.name,
        e.response.status,
        e.response.headers['content-type'],
        e.response.bodyText,
      ]);
    }
    // Hold the only slot with a run that waits on a gate, then the 429s.
    const gate = join(stepVisibleDir(), 'gate');
    const slow = byName('slow run');
    const slowBody = slow.request.body as { script: Record<string, unknown> };
    const holding = send(r.url, {
      ...slow.request,
      body: {
        ...slowBody,
        script: {
          ...slowBody.script,
          code: `echo slow-start\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\necho slow-done`,
        },
      },
    });
    const started = await holding;
    const reader = started.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('slow-start');
    for (const e of f.exchanges.filter((x) => x.response.status === 429)) {
      const res = await send(r.url, e.request);
      expect([e.name, res.status, await res.text()]).toEqual([e.name, 429, e.response.bodyText]);
    }
    writeFileSync(gate, '');
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read())
      rest += new TextDecoder().decode(c.value);
    expect(rest).toContain('"code":0');
  });

  it("Baton's own limits: 413 over 1 MB, 400 for a runId over 256 characters, 409 for a runId already running", async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const run = (body: unknown) =>
      send(r.url, { method: 'POST', path: '/api/run', headers: { 'x-automn-runner-secret': SECRET }, body });
    const big = await send(r.url, {
      method: 'POST',
      path: '/api/run',
      headers: { 'x-automn-runner-secret': SECRET },
      bodyText: JSON.stringify({ script: { language: 'sh', code: 'x'.repeat(1024 * 1024) } }),
    });
    expect([big.status, await big.text()]).toEqual([
      413,
      expect.stringMatching(/^\{"error":"request body of \d+ bytes is over the limit of 1048576 bytes"\}$/),
    ]);
    const long = await run({ runId: 'r'.repeat(257), script: { language: 'sh', code: 'true' } });
    expect([long.status, await long.text()]).toEqual([
      400,
      '{"error":"runId is 257 characters; the limit is 256"}',
    ]);
    const gate = join(stepVisibleDir(), 'gate');
    const first = await run({
      runId: 'same',
      script: { language: 'sh', code: `while [ ! -e ${gate} ]; do sleep 0.05; done` },
    });
    expect(first.status).toBe(200);
    const second = await run({ runId: 'same', script: { language: 'sh', code: 'true' } });
    expect([second.status, await second.text()]).toEqual([409, '{"error":"Run same is already running"}']);
    writeFileSync(gate, '');
    expect(frames(await first.text()).at(-1)!.data!.code).toBe(0);
  });

  it('shell helpers write valid JSON (upstream defect fixed): logs, notifications and the first return', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const f = fixture('runner-run-shell-helpers.json') as unknown as Exchange;
    const res = await send(r.url, f.request);
    const result = frames(await res.text()).at(-1)!.data!;
    expect(stable(result)).toEqual(
      stable({
        runId: 'fixture-run-shell-helpers',
        stdout: 'before\nplain-1\nplain-2',
        stderr: '',
        code: 0,
        duration: 0,
        returnData: { ok: true },
        automnLogs: [
          { message: 'a log', level: 'warn', type: 'general', context: {}, order: 0, timestamp: '' },
        ],
        automnNotifications: [
          {
            order: 0,
            audience: 'ops',
            message: 'hi ops',
            level: 'error',
            raw: { audience: 'ops', message: 'hi ops', level: 'error' },
            timestamp: '',
          },
        ],
        input: {},
      }),
    );
  });

  it('keeps running after AutomnReturn (not killed 300 ms later as upstream), first return wins', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const f = fixture('runner-run-shell-return-terminates.json') as unknown as Exchange;
    const body = f.request.body as { script: Record<string, unknown> };
    const res = await send(r.url, {
      ...f.request,
      body: {
        ...body,
        script: { ...body.script, code: 'AutomnReturn \'{"n":1}\'\nAutomnReturn \'{"n":2}\'\necho after' },
      },
    });
    const result = frames(await res.text()).at(-1)!.data!;
    expect([result.stdout, result.code, result.returnData]).toEqual(['after', 0, { n: 1 }]);
  });

  it('passes ${{ … }} in a script through as text (never a Baton expression), in node and python', async () => {
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    for (const [language, code] of [
      ['node', 'console.log("${{ secrets.X }}")'],
      ['python', 'print("${{ secrets.X }}")'],
    ]) {
      const res = await send(r.url, {
        method: 'POST',
        path: '/api/run',
        headers: { 'x-automn-runner-secret': SECRET },
        body: { script: { language, code } },
      });
      const result = frames(await res.text()).at(-1)!.data!;
      expect([language, result.stdout, result.code]).toEqual([language, '${{ secrets.X }}', 0]);
    }
  });

  it('reads upstream stdout markers only behind the switch, at line starts, and never after ::stop-commands::', async () => {
    const code = [
      `echo '__SCRIPTRETURN__{"a":1}'`,
      `echo 'x __SCRIPTLOG__{"message":"mid-line"}'`,
      `echo '__SCRIPTLOG__{"message":"m","level":"warning"}'`,
      `echo '::stop-commands::tok'`,
      `echo '__SCRIPTNOTIFY__{"message":"forged"}'`,
    ].join('\n');
    const request = {
      method: 'POST',
      path: '/api/run',
      headers: { 'x-automn-runner-secret': SECRET },
      body: { script: { language: 'shell', code } },
    };
    const off = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const plain = frames(await (await send(off.url, request)).text()).at(-1)!.data!;
    expect([plain.returnData, plain.automnLogs, plain.automnNotifications]).toEqual([null, [], []]);
    expect(String(plain.stdout).split('\n')).toHaveLength(5);
    const on = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET, BATON_SERVE_STDOUT_MARKERS: 'true' });
    const read = frames(await (await send(on.url, request)).text()).at(-1)!.data!;
    expect(read.returnData).toEqual({ a: 1 });
    expect(
      (read.automnLogs as Array<{ message: string; level: string }>).map((l) => [l.message, l.level]),
    ).toEqual([['m', 'warn']]);
    expect(read.automnNotifications).toEqual([]);
    expect(read.stdout).toBe(
      'x __SCRIPTLOG__{"message":"mid-line"}\n::stop-commands::tok\n__SCRIPTNOTIFY__{"message":"forged"}',
    );
  });

  it('GET /status has the fixture field names and types, and never a secret', async () => {
    const f = fixture('runner-status.json') as unknown as { snapshots: Exchange[] };
    const fromEnv = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const res = await fetch(`${fromEnv.url}/status`);
    const text = await res.text();
    expect(text).not.toContain(SECRET);
    const got = JSON.parse(text) as { runner: Record<string, unknown>; config: Record<string, unknown> };
    const c = f.snapshots.find((s) => s.name?.startsWith('C:'))!.response.body as typeof got;
    expect(Object.keys(got.runner)).toEqual(Object.keys(c.runner));
    expect(Object.keys(got.config)).toEqual(Object.keys(c.config));
    const unstable = ['scriptsDir', 'workdirDir'];
    for (const [part, obj] of [
      ['runner', got.runner],
      ['config', got.config],
    ] as const)
      for (const [k, v] of Object.entries(obj))
        if (!unstable.includes(k))
          expect([part, k, v]).toEqual([part, k, (c as Record<string, Record<string, unknown>>)[part]![k]]);
  });

  it('/internal/reset: 404 disabled, 403 wrong token, 400 env secret, then rate-limited failures', async () => {
    const f = fixture('runner-reset.json') as unknown as { exchanges: Exchange[] };
    const all = JSON.stringify(f);
    expect(all).toContain('Reset endpoint disabled');
    const noToken = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET });
    const disabled = await send(noToken.url, {
      method: 'POST',
      path: '/internal/reset',
      headers: { 'content-type': 'application/json' },
      body: { token: TOKEN },
    });
    expect([disabled.status, await disabled.text()]).toEqual([404, '{"error":"Reset endpoint disabled"}']);
    const r = await startServeRunner({ AUTOMN_RUNNER_SECRET: SECRET, AUTOMN_RUNNER_RESET_TOKEN: TOKEN });
    const post = (body: unknown) =>
      send(r.url, {
        method: 'POST',
        path: '/internal/reset',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const a = await post({ token: TOKEN, secret: 'new-secret-0123456789' });
    expect([a.status, await a.text()]).toEqual([
      400,
      '{"error":"Runner secret is managed via environment variables and cannot be changed"}',
    ]);
    const b = await post({ token: TOKEN });
    expect([b.status, await b.text()]).toEqual([
      400,
      '{"error":"Runner secret is managed via environment variables and cannot be cleared"}',
    ]);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post({ token: 'wrong-token-000000' })).status);
    expect(statuses).toEqual([403, 403, 403, 403, 403, 429]);
    // Even the right token waits out the window once the failures piled up.
    expect((await post({ token: TOKEN })).status).toBe(429);
  });

  it('registers with the fixture body, heartbeats, and rotating the secret through /internal/reset re-registers', async () => {
    const reg = fixture('runner-registration.json') as unknown as { requests: Exchange[] };
    const recorded = reg.requests.map((q) => q.request.body as Record<string, unknown>);
    const bodies: Array<Record<string, unknown>> = [];
    const host = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        bodies.push({ path: req.url, ...(JSON.parse(text) as Record<string, unknown>) });
        const ok = reg.requests.find((q) => q.response.status === 200)!;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok.response.body));
      });
    });
    await new Promise<void>((done) => host.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => host.close(() => done())));
    const port = (host.address() as { port: number }).port;
    const r = await startServeRunner({
      AUTOMN_HOST_URL: `http://127.0.0.1:${port}`,
      AUTOMN_RUNNER_ID: 'r2',
      AUTOMN_RUNNER_PUBLIC_URL: 'http://127.0.0.1:13031',
      AUTOMN_RUNNER_HEARTBEAT_MS: '1000',
      AUTOMN_RUNNER_RESET_TOKEN: TOKEN,
    });
    // No secret yet: the form, then /ui/register.
    expect(await (await fetch(`${r.url}/`)).text()).toContain('action="/ui/register"');
    const short = await send(r.url, { method: 'POST', path: '/ui/register', form: { secret: 'short-one' } });
    expect([short.status, await short.text()]).toEqual([
      400,
      expect.stringContaining('Secret must be at least 12 characters'),
    ]);
    const ok = await send(r.url, {
      method: 'POST',
      path: '/ui/register',
      form: { secret: PLACEHOLDERS['{{RUNNER_SECRET_R2}}']! },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).not.toContain(PLACEHOLDERS['{{RUNNER_SECRET_R2}}']);
    const rotated = PLACEHOLDERS['{{RUNNER_SECRET_R2_ROTATED}}']!;
    const reset = await send(r.url, {
      method: 'POST',
      path: '/internal/reset',
      headers: { 'content-type': 'application/json' },
      body: { token: TOKEN, secret: rotated },
    });
    const resetBody = (await reset.json()) as Record<string, unknown>;
    // The rotated secret is the one /api/run accepts from now on.
    const runWith = (secret: string) =>
      send(r.url, {
        method: 'POST',
        path: '/api/run',
        headers: { 'x-automn-runner-secret': secret },
        body: { script: { language: 'sh', code: 'echo rotated' } },
      });
    expect((await runWith(PLACEHOLDERS['{{RUNNER_SECRET_R2}}']!)).status).toBe(401);
    const fresh = await runWith(rotated);
    expect(frames(await fresh.text()).at(-1)!.data!.stdout).toBe('rotated');
    expect(Object.keys(resetBody)).toEqual(['reset', 'secretUpdated', 'registration', 'registrationResult']);
    // The rotation is announced once, with the new secret, before /internal/reset answers; on a loaded machine a
    // periodic heartbeat may come between the initial one and it, so the periodic one checked is one after it.
    const reasonOf = (b: Record<string, unknown>) => String(b.statusMessage);
    const rotation = bodies.findIndex((b) => reasonOf(b).endsWith('(secret-rotation)'));
    expect(rotation).toBeGreaterThan(0);
    while (!bodies.slice(rotation + 1).some((b) => reasonOf(b).endsWith('(heartbeat)')))
      await new Promise((done) => setTimeout(done, 100));
    const reasons = bodies.map(reasonOf);
    expect(reasons[0]).toBe('Runner heartbeat (initial)');
    expect(reasons.filter((reason) => reason.endsWith('(secret-rotation)'))).toEqual([
      'Runner heartbeat (secret-rotation)',
    ]);
    expect(bodies[rotation]!.secret).toBe(rotated);
    const heartbeat = bodies.slice(rotation + 1).find((b) => reasonOf(b).endsWith('(heartbeat)'))!;
    expect(heartbeat.secret).toBe(rotated);
    expect(heartbeat.path).toBe('/api/settings/runner-hosts/r2/register');
    // Runner B's recorded body shape (no maxConcurrency/timeoutMs when unset).
    const recordedB = recorded.find((b) => !('maxConcurrency' in b))!;
    const { path: _p, batonPublicKey, ...sent } = heartbeat;
    expect(Object.keys(sent)).toEqual(Object.keys(recordedB));
    // The one field beyond upstream's body (docs/automn.md, docs/adr/0013): the runner's X25519 public key, last.
    expect(Object.keys(heartbeat).at(-1)).toBe('batonPublicKey');
    expect(batonPublicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const k of Object.keys(recordedB)) expect(typeof sent[k]).toBe(typeof recordedB[k]);
    expect(existsSync(join(r.dataDir, 'data', 'state', 'runner-state.json'))).toBe(true);
    const status = await (await fetch(`${r.url}/status`)).text();
    expect(status).not.toContain(rotated);
    expect((JSON.parse(status) as { runner: { locked: boolean } }).runner.locked).toBe(true);
  });

  it('replays the operator pages of runner-ui.json: statuses, headings and alert texts', async () => {
    interface UiExchange extends Exchange {
      response: Exchange['response'] & {
        html: { title: string; headings: string[]; alerts: Array<{ text: string }> };
      };
    }
    const f = fixture('runner-ui.json') as unknown as { exchanges?: UiExchange[] };
    const all: UiExchange[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        if ('request' in v && 'response' in v) all.push(v as UiExchange);
        else Object.values(v).forEach(walk);
      }
    };
    walk(f);
    expect(all).toHaveLength(8);
    const ok = (fixture('runner-registration.json') as unknown as { requests: Exchange[] }).requests.find(
      (q) => q.response.status === 200,
    )!;
    let created = false;
    const host = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(created ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(created ? ok.response.body : { error: 'Runner host not found' }));
      });
    });
    await new Promise<void>((done) => host.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => host.close(() => done())));
    const hostUrl = `http://127.0.0.1:${(host.address() as { port: number }).port}`;
    const page = async (res: Response) => {
      const html = (await res.text()).replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)));
      return {
        status: res.status,
        title: /<title>(.*?)<\/title>/.exec(html)?.[1],
        heading: /<h1>(.*?)<\/h1>/.exec(html)?.[1],
        alerts: [...html.matchAll(/<div class="alert[^"]*">(.*?)<\/div>/g)].map((m) => m[1]),
      };
    };
    const expected = (e: UiExchange) => ({
      status: e.response.status,
      title: e.response.html.title,
      heading: e.response.html.headings[0],
      alerts: e.response.html.alerts.map((a) => a.text.replace('http://127.0.0.1:18090', hostUrl)),
    });
    const a = await startServeRunner({
      AUTOMN_HOST_URL: hostUrl,
      AUTOMN_RUNNER_ID: 'r1',
      AUTOMN_RUNNER_SECRET: SECRET,
      AUTOMN_RUNNER_PUBLIC_URL: 'http://127.0.0.1:13030',
    });
    while (
      (JSON.parse(await (await fetch(`${a.url}/status`)).text()) as { runner: Record<string, unknown> })
        .runner.lastRegistrationStatus !== 'error'
    )
      await new Promise((done) => setTimeout(done, 50));
    const b = await startServeRunner({
      AUTOMN_HOST_URL: hostUrl,
      AUTOMN_RUNNER_ID: 'r2',
      AUTOMN_RUNNER_PUBLIC_URL: 'http://127.0.0.1:13031',
    });
    for (const e of all) {
      if (e.name?.includes('after r1 was created')) created = true;
      const r = e.name?.startsWith('A:') === true ? a : b;
      expect([e.name, await page(await send(r.url, e.request))]).toEqual([e.name, expected(e)]);
    }
  });
});
