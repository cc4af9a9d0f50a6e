// The web UI in a real browser (Debian's Chromium driven by playwright-core) against a real `baton server` and a
// real `baton runner` registered with the command the UI shows: sign in, runners, a runner's page, submit, live
// logs, DAG, artifacts, cancel, pending explanation, the runs filters, secrets, webhooks and their delivery log;
// and the Push runners tab with a real `baton runner serve` registered with the secret it showed once.
// Screenshots of each page go to test-artifacts/ui/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  launchRunner,
  startRunnerProcess,
  startServerProcess,
  waitFor,
  waitForRun,
  type ServerProcess,
} from '../helpers/cluster.ts';
import { startTracked } from '../helpers/processes.ts';
import { stepVisibleDir, tempDir } from '../helpers/temp.ts';
import { startServeRunner } from '../helpers/automn-runner.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/baton.js');
const CHROMIUM = process.env.BATON_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts/ui');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds web/dist with Vite, as `npm run build` does: `npm test` runs on a clean checkout. */
async function buildUi(): Promise<void> {
  const vite = startTracked('vite build', process.execPath, [
    join(ROOT, 'node_modules/vite/bin/vite.js'),
    'build',
    join(ROOT, 'web'),
    '--logLevel',
    'warn',
  ]);
  let out = '';
  vite.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  vite.child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = await vite.exited;
  if (exit.code !== 0) throw new Error(`vite build web failed (${exit.code}):\n${out}`);
}

const LIVE_WORKFLOW = `name: ui-live
inputs:
  gate:
    description: a file whose existence lets the build finish
tasks:
  build:
    runs_on: [ui]
    run: |
      printf '\\033[32mgreen line\\033[0m\\n'
      echo "tick 1"
      while [ ! -f "\${{ inputs.gate }}" ]; do sleep 0.05; done
      echo "tick 2"
      echo "report" > report.txt
    uploads: [report.txt]
  test:
    depends_on: [build]
    run: echo "tested"
  lint:
    depends_on: [build]
    run: seq 1 20000
  package:
    depends_on: [test, lint]
    run: echo "packaged"
`;

/** A loopback port nothing listens on now: a push runner must know its own URL before it starts. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('web UI', () => {
  let browser: Browser;
  let page: Page;
  const external: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the UI test drives Debian's Chromium. ` +
          'Install it with `apt-get update && apt-get install -y chromium` (.ci/run does), ' +
          'or point BATON_CHROMIUM at a Chromium binary. Never `npx playwright install`.',
      );
    }
    mkdirSync(SHOTS, { recursive: true });
    await buildUi();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const runStatus = () => page.locator('h1 .status');

  async function submit(server: ServerProcess, workflow: string, inputs = ''): Promise<string> {
    await page.goto(`${server.url}/runs/new`);
    await page.getByLabel('Workflow (YAML or JSON)').fill(workflow);
    await page.getByLabel('Inputs, one key=value per line').fill(inputs);
    await page.getByRole('button', { name: 'Submit', exact: true }).click();
    await page.waitForURL(/\/runs\/[0-9a-z]{26}$/);
    return new URL(page.url()).pathname.split('/')[2]!;
  }

  it("signs in, registers a runner with the shown command, follows a run live, shows the runner's page, downloads an artifact, drains the runner and cancels a run, explains a pending task, filters runs and manages a secret", async () => {
    const server = await startServerProcess();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) external.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    try {
      // ---- security headers and sign-in ----
      const first = await page.goto(server.url);
      const headers = first!.headers();
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-frame-options']).toBe('DENY');
      await page.getByLabel('User token').fill('baton_u_wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'user token' }).waitFor();
      await shot('signin');
      await page.getByLabel('User token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      // The token lives only in the HttpOnly cookie: not readable by scripts, not in storage.
      expect(await page.evaluate('[document.cookie, localStorage.length, sessionStorage.length]')).toEqual([
        '',
        0,
        0,
      ]);
      const cookies = await context.cookies();
      expect(cookies.find((c) => c.name === 'baton_session')).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
      });

      // ---- add a runner and register it with the command the page shows ----
      await page.getByRole('link', { name: 'Runners', exact: true }).click();
      await page.getByRole('button', { name: 'Add runner' }).click();
      await page.getByLabel('Name').fill('ui-runner');
      await page.getByLabel('Labels, comma-separated').fill('linux,ui');
      await page.getByRole('button', { name: 'Create registration command' }).click();
      const command = (await page.locator('#register-command').textContent())!;
      expect(command).toMatch(
        new RegExp(
          `^baton runner register --server ${server.url} --registration-token baton_reg_\\S+ --name ui-runner --labels linux,ui$`,
        ),
      );
      await shot('runners-add');
      const config = join(tempDir('baton-ui-runner-'), 'runner.json');
      const words = command.split(/\s+/).slice(1);
      const reg = startTracked(
        'register ui-runner',
        process.execPath,
        [BIN, ...words, '--config', config],
        {},
        true,
      );
      let regOut = '';
      reg.child.stderr?.on('data', (d: Buffer) => (regOut += d.toString()));
      expect((await reg.exited).code, regOut).toBe(0);
      const uiRunner = await launchRunner('ui-runner', config);
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('tr[data-runner="ui-runner"] .status-idle').waitFor();
      await shot('runners');

      // ---- a workflow with problems: each is listed with its line ----
      await page.getByRole('link', { name: 'Runs' }).click();
      await page.getByRole('link', { name: 'Submit a workflow' }).click();
      await page
        .getByLabel('Workflow (YAML or JSON)')
        .fill('name: broken\ntasks:\n  a:\n    run: echo a\n    depends_on: [bulid]\n');
      await page.getByRole('button', { name: 'Submit', exact: true }).click();
      await page
        .locator('.issues li')
        .filter({ hasText: /line 5/ })
        .waitFor();
      expect(await page.locator('.issues').textContent()).toContain("depends on 'bulid'");
      await shot('submit-issues');

      // ---- submit, watch the log arrive live, open the DAG ----
      const gate = join(stepVisibleDir('baton-ui-gate-'), 'go');
      const liveId = await submit(server, LIVE_WORKFLOW, `gate=${gate}`);
      await page.locator('g.dag-node[data-task="build"]').click();
      await page.waitForURL(/\/tasks\/build$/);
      const log = page.locator('.log-box');
      await log.locator('.log-line', { hasText: 'tick 1' }).waitFor();
      // The task is still blocked on the gate: these lines came live, not from a finished log.
      expect(await log.textContent()).not.toContain('tick 2');
      expect(await page.locator('g.dag-node[data-task="build"]').getAttribute('class')).toContain(
        'status-running',
      );
      expect(await log.locator('.a-fg2').first().textContent()).toBe('green line');
      await shot('run-live');

      // ---- the runner's page, from the list: the task it runs now, then the same task under recent ----
      await page.getByRole('link', { name: 'Runners', exact: true }).click();
      await page.locator('tr[data-runner="ui-runner"]').getByRole('link', { name: 'ui-runner' }).click();
      await page.waitForURL(/\/runners\/[0-9a-z]{26}$/);
      await page.getByRole('heading', { name: /ui-runner/ }).waitFor();
      const current = page.locator('.runner-current tr[data-task="build"]');
      await current.waitFor();
      expect(await current.getByRole('link', { name: 'ui-live' }).getAttribute('href')).toBe(
        `/runs/${liveId}`,
      );
      expect(await page.locator('.runner-facts').textContent()).toContain('host — not for untrusted code');
      expect(await page.locator('h1 .status').textContent()).toBe('busy');
      writeFileSync(gate, '');
      const recent = page.locator('.runner-recent tr[data-task="build"]');
      await recent.locator('.status-succeeded').waitFor();
      await current.waitFor({ state: 'detached' });
      await recent.getByRole('link', { name: 'build' }).click();
      await page.waitForURL(new RegExp(`/runs/${liveId}/tasks/build$`));
      await log.locator('.log-line', { hasText: 'tick 2' }).waitFor();
      await runStatus().filter({ hasText: 'succeeded' }).waitFor();
      expect(await page.locator('g.dag-node').count()).toBe(4);
      expect(await page.locator('g.dag-node.status-succeeded').count()).toBe(4);

      // Line anchors, timestamps and search.
      await log.locator('a.ln', { hasText: /^2$/ }).click();
      expect(new URL(page.url()).hash).toBe('#L2');
      await page.getByLabel('Timestamps').check();
      await log.locator('.ts').first().waitFor();
      await page.getByPlaceholder('Search log').fill('tick');
      await page.locator('.log-matches', { hasText: '1 of 2' }).waitFor();
      await shot('run-dag-log');
      // DAG nodes are buttons for the keyboard too.
      await page.locator('g.dag-node[data-task="package"]').focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/tasks\/package$/);

      // ---- the artifact of the task with `uploads:` ----
      const link = page.getByRole('link', { name: /^build\/.*\.zip$/ });
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toMatch(/^build-.*\.zip$/);
      const saved = join(tempDir('baton-ui-dl-'), 'a.zip');
      await download.saveAs(saved);
      expect(readFileSync(saved).subarray(0, 2).toString()).toBe('PK');

      // ---- a long log renders only its visible lines; a linked line (#L15000) is scrolled to ----
      await page.goto(`${server.url}/runs/${liveId}/tasks/lint#L15000`);
      await page.locator('.log-state', { hasText: '20000 lines' }).waitFor();
      await log.locator('.log-line.selected', { hasText: /^15000\s*15000$/ }).waitFor();
      expect(await log.locator('.log-line').count()).toBeLessThan(200);
      await shot('run-long-log');

      // ---- a runner's page while it drains; cancel a running run ----
      const cancelId = await submit(
        server,
        'name: ui-cancel\ntasks:\n  long:\n    runs_on: [ui]\n    run: sleep 60\n',
      );
      await runStatus().filter({ hasText: 'running' }).waitFor();
      // The runner's page while it runs this one and has the four tasks of ui-live behind it.
      await page.locator('.tasks').getByText('ui-runner').waitFor();
      await page.goto(`${server.url}/runners`);
      await page.locator('tr[data-runner="ui-runner"]').getByRole('link', { name: 'ui-runner' }).click();
      await page.locator('.runner-current tr[data-task="long"]').waitFor();
      expect(await page.locator('.runner-recent tbody tr').count()).toBe(4);
      // Stopped once, the runner finishes what it runs and takes nothing new: its page says so at once.
      process.kill(uiRunner.proc.pid, 'SIGTERM');
      await page.locator('h1 .status-draining').waitFor();
      await page.locator('.notice', { hasText: 'Stopping' }).waitFor();
      expect(await page.locator('.runner-current tr[data-task="long"]').count()).toBe(1);
      await shot('runner-page');
      await page.locator('.runner-current').getByRole('link', { name: 'ui-cancel' }).click();
      await runStatus().filter({ hasText: 'running' }).waitFor();
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await runStatus().filter({ hasText: 'cancelled' }).waitFor();
      await shot('run-cancelled');

      // ---- a task whose labels no runner has: the page says why ----
      const pendingId = await submit(
        server,
        'name: ui-pending\ntasks:\n  gpu-task:\n    runs_on: [gpu]\n    run: echo never\n',
      );
      await page.goto(`${server.url}/runs/${pendingId}/tasks/gpu-task`);
      const pending = page.locator('.pending');
      await pending.locator('[data-code="tag_mismatch"]', { hasText: 'lacks label gpu' }).waitFor();
      expect(await pending.textContent()).toContain('ui-runner');
      await shot('run-pending');

      // ---- runs list: filters ----
      await page.goto(`${server.url}/runs`);
      await page.getByRole('link', { name: 'ui-live' }).waitFor();
      await page.getByLabel('Status').selectOption('cancelled');
      await page.getByRole('link', { name: 'ui-live' }).waitFor({ state: 'detached' });
      expect(await page.getByRole('link', { name: 'ui-cancel' }).count()).toBe(1);
      await page.getByLabel('Status').selectOption('');
      // 25 newer runs push the older ones off the first page: the name filter has to ask the server.
      const rows = page.locator('table.runs tbody tr');
      for (let i = 0; i < 24; i++)
        await server.client.submitRun(
          `name: filler-${i}\ntasks:\n  t:\n    runs_on: [nowhere]\n    run: "true"\n`,
        );
      await server.client.submitRun(
        'name: "100% pass"\ntasks:\n  t:\n    runs_on: [nowhere]\n    run: "true"\n',
      );
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByRole('link', { name: 'ui-live' }).waitFor({ state: 'detached' });
      await page.getByLabel('Name').fill('LIVE');
      await page.getByRole('link', { name: 'ui-live' }).waitFor();
      expect(await rows.count()).toBe(1);
      // `%` is a character in a name, not a wildcard.
      await page.getByLabel('Name').fill('%');
      await page.getByRole('link', { name: '100% pass' }).waitFor();
      await rows.nth(1).waitFor({ state: 'detached' });
      expect(await rows.count()).toBe(1);
      await page.getByLabel('Name').fill('pend');
      await page.getByRole('link', { name: 'ui-pending' }).waitFor();
      expect(await rows.count()).toBe(1);
      await page.getByLabel('Name').fill('ui-');
      await page.getByRole('link', { name: 'ui-live' }).waitFor();
      expect(await rows.count()).toBe(3);
      await shot('runs');
      await page.getByLabel('Name').fill('');

      // ---- secrets: set, listed by name only, delete ----
      await page.getByRole('link', { name: 'Secrets' }).click();
      await page.getByLabel('Name').fill('UI_SECRET');
      await page.getByLabel('Value').fill('s3cret-value-for-ui');
      await page.getByRole('button', { name: 'Save secret' }).click();
      await page.locator('tr[data-secret="UI_SECRET"]').waitFor();
      expect(await page.locator('main').textContent()).not.toContain('s3cret-value-for-ui');
      await shot('secrets');
      await page.getByRole('button', { name: 'Delete UI_SECRET' }).click();
      await page.locator('tr[data-secret="UI_SECRET"]').waitFor({ state: 'detached' });

      // ---- webhooks: add one (its secret shown once), a delivery and its attempts in the log, remove ----
      const receiver = await startReceiver('replaced by the secret the UI shows');
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByLabel('URL').fill(receiver.url);
      // The runner was drained above: an event that needs no runner.
      await page.getByLabel('Events').fill('run.queued');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const shown = page.getByRole('status').locator('code');
      receiver.secret = (await shown.textContent())!.trim();
      expect(receiver.secret.length).toBeGreaterThanOrEqual(32);
      const hookRow = page.locator('tr[data-webhook]');
      await hookRow.waitFor();
      const pinged = await server.client.submitRun('name: ui-webhook\ntasks:\n  ping:\n    run: "true"\n');
      await waitFor(() => receiver.received.length >= 1, 'the webhook delivery', 30_000);
      expect(receiver.received[0]!.signatureValid).toBe(true);
      expect(receiver.received[0]!.json).toMatchObject({ event: 'run.queued', runId: pinged.id });
      await page.getByRole('button', { name: `Deliveries of ${receiver.url}` }).click();
      const delivery = page.locator('tr[data-delivery]');
      await delivery.waitFor();
      expect(await delivery.textContent()).toMatch(/run\.queued.*delivered.*200 · \d+ ms/);
      // The secret is not shown again.
      await page.reload();
      await hookRow.waitFor();
      expect(await page.locator('main').textContent()).not.toContain(receiver.secret);
      await shot('webhooks');
      await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
      await hookRow.waitFor({ state: 'detached' });

      // ---- 390 px wide: the page fits, wide parts scroll inside themselves ----
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${server.url}/runs/${liveId}/tasks/build`);
      await page.locator('.log-box .log-line').first().waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await shot('run-mobile');
      await page.goto(`${server.url}/runs/${cancelId}`);
      await runStatus().waitFor();

      // ---- a runner that does not exist: the page says so ----
      await page.goto(`${server.url}/runners/01m8235cmq1qf7cvpvtk4z0exp`);
      await page
        .getByRole('alert')
        .filter({ hasText: 'runner 01m8235cmq1qf7cvpvtk4z0exp not found' })
        .waitFor();

      // ---- sign out ----
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('User token').waitFor();
      expect((await context.cookies()).find((c) => c.name === 'baton_session')).toBeUndefined();

      expect(external, 'requests to anything but the Baton server').toEqual([]);
      // Script errors and CSP violations; answers like the 401 of a wrong token or the 422 of a bad workflow are expected.
      expect(consoleErrors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);

  it('a cached task shows cached, its key and age in the run table and the task panel', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'ui-cache');
    const workflow = `name: ui-cache
tasks:
  work:
    run: echo "out=v" >> "$BATON_OUTPUT"
    exports: [out]
    cache: { ttl: 1h }
`;
    for (let i = 0; i < 2; i++) {
      const run = await server.client.submitRun(workflow);
      const result = await waitForRun(server.client, run.id);
      expect(result.status).toBe('succeeded');
      if (i === 0) continue;
      const key = result.results.work!.cacheKey!;
      expect(result.results.work?.cached).toBe(true);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      try {
        await page.goto(server.url);
        await page.getByLabel('User token').fill(server.adminToken);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Runs' }).waitFor();
        await page.goto(`${server.url}/runs/${run.id}/tasks/work`);
        await page.locator('td .cached', { hasText: 'cached' }).waitFor();
        const cache = page.locator('dd.cache');
        await cache.waitFor();
        expect(await cache.textContent()).toMatch(new RegExp(`^cached: true, age .+ · key ${key}$`));
        await shot('run-cached-task');
      } finally {
        await context.close();
      }
    }
  });

  // docs.github.com "Workflow commands": "Grouping log lines", "Setting an error message", "Adding a job summary".
  it("a GitHub workflow's groups fold in the log, its annotations are listed and its step summary is rendered with no markup from the step", async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'ui-gh');
    const workflow = `on: push
jobs:
  report:
    steps:
      - name: lint
        run: |
          echo "::group::Install deps"
          echo "inside-the-group"
          echo "::endgroup::"
          echo "::error file=app.js,line=3,title=Bad call::Missing semicolon"
          echo "### Results" >> "$GITHUB_STEP_SUMMARY"
          echo "| test | result |" >> "$GITHUB_STEP_SUMMARY"
          echo "| --- | --- |" >> "$GITHUB_STEP_SUMMARY"
          echo "| unit | **pass** |" >> "$GITHUB_STEP_SUMMARY"
          echo '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">' >> "$GITHUB_STEP_SUMMARY"
`;
    const run = await server.client.submitRun(workflow, { fileName: 'ci.yml' });
    const result = await waitForRun(server.client, run.id);
    expect(result.status).toBe('succeeded');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    try {
      await page.goto(server.url);
      await page.getByLabel('User token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      await page.goto(`${server.url}/runs/${run.id}/tasks/report`);
      const annotation = page.locator('.task-panel .annotations li.annotation-error');
      await annotation.waitFor();
      expect(await annotation.textContent()).toBe('Error lint app.js#L3: Bad call: Missing semicolon');
      // The run lists every task's annotations too, as GitHub's run summary does.
      const onRun = page.getByRole('region', { name: 'Annotations' });
      expect(await onRun.locator('li.annotation-error').textContent()).toBe(
        'Error lint app.js#L3: Bad call: Missing semicolon',
      );
      const summary = page.getByRole('region', { name: 'Summary of step lint' });
      await summary.waitFor();
      expect(await summary.locator('h5').textContent()).toBe('Results');
      expect(await summary.locator('td strong').textContent()).toBe('pass');
      expect(await summary.locator('script, img').count()).toBe(0);
      expect(await summary.textContent()).toContain('<script>window.pwned = 1</script>');
      expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
      // The ended group is folded under its title until clicked.
      const toggle = page.locator('.log-line.log-group .group-toggle');
      await toggle.waitFor();
      expect(await page.locator('.log-line', { hasText: 'inside-the-group' }).count()).toBe(0);
      expect(await page.locator('.log-line.log-error .marker-label').textContent()).toBe('Error: ');
      await toggle.click();
      await page.locator('.log-line.in-group', { hasText: 'inside-the-group' }).waitFor();
      await shot('run-github-annotations-summary');
    } finally {
      await context.close();
    }
  });

  it("a finished task's log is split into its steps: the failing one open, the others folded until clicked; the run page fits a phone", async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'ui-steps');
    const workflow = `on: push
jobs:
  build:
    steps:
      - name: install
        run: echo "installed-ok"
      - name: unit tests
        run: |
          echo "::group::details"
          echo "inside-details"
          echo "::endgroup::"
          echo "test-failed-here"
          exit 3
      - name: never
        run: echo "not reached"
  docs:
    steps:
      - run: echo "docs built"
`;
    const run = await server.client.submitRun(workflow, { fileName: 'ci.yml' });
    expect((await waitForRun(server.client, run.id)).status).toBe('failed');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    try {
      await page.goto(server.url);
      await page.getByLabel('User token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      await page.goto(`${server.url}/runs/${run.id}/tasks/build`);
      const header = (name: string) => page.locator('.log-line.log-step', { hasText: name });
      await header('unit tests').waitFor();
      expect(await page.locator('.log-line.log-step').count()).toBe(3);
      expect(await header('unit tests').getAttribute('class')).toContain('step-failed');
      expect(await header('install').locator('.step-toggle').getAttribute('aria-expanded')).toBe('false');
      expect(await header('unit tests').locator('.step-toggle').getAttribute('aria-expanded')).toBe('true');
      expect(await header('never').textContent()).toContain('skipped');
      // The failing step is open (its group folded inside it); the passing one is closed until clicked.
      await page.locator('.log-line', { hasText: 'test-failed-here' }).waitFor();
      expect(await page.locator('.log-line', { hasText: 'installed-ok' }).count()).toBe(0);
      expect(await page.locator('.log-line', { hasText: 'inside-details' }).count()).toBe(0);
      await page.locator('.log-line.log-group .group-toggle').click();
      await page.locator('.log-line.in-group', { hasText: 'inside-details' }).waitFor();
      await header('install').locator('.step-toggle').click();
      await page.locator('.log-line', { hasText: 'installed-ok' }).waitFor();
      await shot('run-steps');
      // A phone: nothing is clipped; the page itself does not scroll sideways.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await header('unit tests').waitFor();
      const overflow = await page.evaluate(() => {
        const g = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return g.document.documentElement.scrollWidth - g.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await shot('run-steps-mobile');
      await page.goto(`${server.url}/runs`);
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      expect(await page.locator('td.progress').first().textContent()).toBe('2/2');
      expect(
        await page.evaluate(() => {
          const g = globalThis as unknown as {
            document: { documentElement: { scrollWidth: number } };
            innerWidth: number;
          };
          return g.document.documentElement.scrollWidth - g.innerWidth;
        }),
      ).toBeLessThanOrEqual(0);
      await shot('runs-mobile');
      // "Re-run failed tasks": a new run of the failed task only (docs succeeded).
      await page.goto(`${server.url}/runs/${run.id}`);
      await page.getByRole('button', { name: 'Re-run failed tasks' }).click();
      await page.waitForURL(
        (url) => /\/runs\/[0-9a-z]{26}$/.test(url.pathname) && !url.pathname.endsWith(run.id),
      );
      const again = new URL(page.url()).pathname.split('/')[2]!;
      expect(Object.keys((await server.client.getRun(again)).results)).toEqual(['build']);
    } finally {
      await context.close();
    }
  });

  it("a running task's steps show while it runs: the finished one folded, the running one open with its time", async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'ui-live-steps');
    const run = await server.client.submitRun(`name: live
tasks:
  build:
    steps:
      - name: setup
        run: echo "setup-done"
      - name: long
        run: echo "long-running-output"; sleep 120
`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    try {
      await page.goto(server.url);
      await page.getByLabel('User token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Runs' }).waitFor();
      await page.goto(`${server.url}/runs/${run.id}/tasks/build`);
      const header = (name: string) => page.locator('.log-line.log-step', { hasText: name });
      await page.locator('.log-line.log-step.step-running', { hasText: 'long' }).waitFor();
      await page.locator('.log-line', { hasText: 'long-running-output' }).waitFor();
      expect(await header('long').locator('.step-toggle').getAttribute('aria-expanded')).toBe('true');
      expect(await header('setup').getAttribute('class')).toContain('step-succeeded');
      expect(await header('setup').locator('.step-toggle').getAttribute('aria-expanded')).toBe('false');
      expect(await page.locator('.log-line', { hasText: 'setup-done' }).count()).toBe(0);
      // The running step's time moves on with the page's refresh.
      const before = await header('long').locator('.step-time').textContent();
      await page.waitForFunction(
        (was) => {
          const g = globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string } | null };
          };
          const now = g.document.querySelector('.log-line.step-running .step-time')?.textContent;
          return now !== undefined && now !== was;
        },
        before,
        { timeout: 30_000 },
      );
      expect((await server.client.getTask(run.id, 'build')).status).toBe('running');
      await shot('run-steps-live');
      await server.client.cancelRun(run.id);
      expect((await waitForRun(server.client, run.id)).status).toBe('cancelled');
    } finally {
      await context.close();
    }
  });

  it("push runners: creates one through the form (a short secret and a taken name show the server's error), registers a real baton runner serve with the secret shown once, rotates, disables, enables and removes it; a read-only user sees the list without actions", async () => {
    const server = await startServerProcess();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    const row = () => page.locator('tr[data-push-runner="edge-1"]');
    // A failure (a timeout included, which names no line) says which part it was in and what the runner printed.
    let stage = 'sign in';
    let runnerOutput = () => '';
    onTestFailed(() => {
      console.error(`push runners UI test failed during: ${stage}\nrunner serve output:\n${runnerOutput()}`);
    });
    try {
      await page.goto(server.url);
      await page.getByLabel('User token').fill(server.adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Runners', exact: true }).click();
      await page.getByRole('link', { name: 'Push runners' }).click();
      await page.waitForURL(/\/runners\/push$/);
      await page.locator('.empty', { hasText: 'No push runner yet' }).waitFor();

      // ---- a secret under 12 characters: the server's message beside the form, nothing typed is lost ----
      stage = 'short secret';
      await page.getByRole('button', { name: 'Add push runner' }).click();
      await page.getByLabel('Name', { exact: true }).fill('edge-1');
      await page.getByLabel('ID (optional)').fill('edge-1');
      await page.getByLabel('Labels, comma-separated').fill('automn, edge');
      await page.getByLabel('Secret (optional)').fill('too-short');
      await page.getByRole('button', { name: 'Create push runner' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'Secret must be at least 12 characters long' })
        .waitFor();
      expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('edge-1');
      expect(await page.getByLabel('Labels, comma-separated').inputValue()).toBe('automn, edge');
      expect(await page.getByLabel('Secret (optional)').inputValue()).toBe('too-short');
      expect(await row().count()).toBe(0);
      await shot('push-runners-error');

      // ---- created with a generated secret, shown once with the command to start the runner ----
      stage = 'create';
      await page.getByLabel('Secret (optional)').fill('');
      await page.getByRole('button', { name: 'Create push runner' }).click();
      const secret = (await page.locator('#push-secret').textContent())!;
      expect(secret.length).toBeGreaterThanOrEqual(12);
      expect(await page.locator('.card').textContent()).toContain('not shown again');
      const serve = (await page.locator('#serve-command').textContent())!;
      expect(serve).toContain(`AUTOMN_HOST_URL=${server.url} \\`);
      expect(serve).toContain('AUTOMN_RUNNER_ID=edge-1 \\');
      expect(serve).toMatch(/baton runner serve$/);
      expect(serve).not.toContain(secret);
      await row().locator('.status-pending', { hasText: 'never registered' }).waitFor();
      await shot('push-runners-secret-shown-once');
      await page.getByRole('button', { name: 'Done' }).click();
      await page.locator('#push-secret').waitFor({ state: 'detached' });
      expect(await page.locator('main').textContent()).not.toContain(secret);
      expect(await row().locator('.label').allTextContents()).toEqual(['automn', 'edge']);

      // ---- a taken name: 409, its message beside the form ----
      stage = 'taken name';
      await page.getByRole('button', { name: 'Add push runner' }).click();
      await page.getByLabel('Name', { exact: true }).fill('edge-1');
      await page.getByRole('button', { name: 'Create push runner' }).click();
      await page.getByRole('alert').filter({ hasText: 'Runner name or id already exists' }).waitFor();
      await page.getByRole('button', { name: 'Close' }).click();

      // ---- a real runner: the secret typed into its own / page, then healthy here ----
      stage = 'register a real runner';
      const port = await freePort();
      const resetToken = `ui-reset-token-${process.pid}`;
      const runner = await startServeRunner({
        AUTOMN_HOST_URL: server.url,
        AUTOMN_RUNNER_ID: 'edge-1',
        AUTOMN_RUNNER_PORT: String(port),
        AUTOMN_RUNNER_PUBLIC_URL: `http://127.0.0.1:${port}`,
        AUTOMN_RUNNER_HEARTBEAT_MS: '1000',
        AUTOMN_RUNNER_MAX_CONCURRENCY: '2',
        AUTOMN_RUNNER_RESET_TOKEN: resetToken,
      });
      runnerOutput = runner.output;
      const runnerPage = await context.newPage();
      await runnerPage.goto(runner.url);
      await runnerPage.getByLabel('Runner secret').fill(secret);
      await runnerPage.getByRole('button', { name: 'Register' }).click();
      await runnerPage.close();
      await row().locator('.status-healthy').waitFor();
      expect(await row().locator('td.endpoint').textContent()).toBe(`http://127.0.0.1:${port}/api/run`);
      await row().locator('time').waitFor();
      expect(await row().textContent()).toMatch(/0\.2\.\d+/);
      expect(await row().locator('td').nth(7).textContent()).toBe('2');
      await shot('push-runners-list');

      // ---- rotate: confirmed, the new secret shown once with the runner's /internal/reset call ----
      stage = 'rotate';
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Rotate secret of edge-1' }).click();
      const rotated = (await page.locator('#push-secret').textContent())!;
      expect(rotated).not.toBe(secret);
      expect(rotated.length).toBeGreaterThanOrEqual(12);
      const reset = (await page.locator('#reset-command').textContent())!;
      expect(reset).toContain(`http://127.0.0.1:${port}/internal/reset`);
      expect(reset).toContain(JSON.stringify(rotated));
      await row().locator('.status-pending', { hasText: 'awaiting registration' }).waitFor();
      await shot('push-runners-rotated');
      // What the page says to run, done here with fetch: the runner stores the secret and registers again.
      const res = await fetch(`http://127.0.0.1:${port}/internal/reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: resetToken, secret: rotated }),
        signal: AbortSignal.timeout(60_000),
      });
      expect(res.status, await res.text()).toBe(200);
      await row().locator('.status-healthy').waitFor();
      await page.getByRole('button', { name: 'Done' }).click();

      // ---- disable with a reason, then enable ----
      stage = 'disable and enable';
      await page.getByRole('button', { name: 'Disable edge-1' }).click();
      await page.getByLabel('Reason').fill('maintenance window');
      await page.getByRole('button', { name: 'Disable runner' }).click();
      await row().locator('.status-disabled').waitFor();
      expect(await row().locator('.status-message').textContent()).toBe('maintenance window');
      await page.getByRole('button', { name: 'Enable edge-1' }).click();
      await row().locator('.status-healthy').waitFor();
      await row()
        .locator('.status-message', { hasText: /Re-enabled|Runner heartbeat/ })
        .waitFor();

      // ---- a read-only user: the list, no actions ----
      stage = 'read-only user';
      const viewer = await server.client.createToken({ kind: 'user', name: 'viewer', scope: 'read' });
      const readContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const readPage = await readContext.newPage();
      try {
        await readPage.goto(`${server.url}/runners/push`);
        await readPage.getByLabel('User token').fill(viewer.token);
        await readPage.getByRole('button', { name: 'Sign in' }).click();
        await readPage.locator('tr[data-push-runner="edge-1"] .status-healthy').waitFor();
        expect(await readPage.getByRole('button', { name: 'Add push runner' }).count()).toBe(0);
        expect(await readPage.locator('tr[data-push-runner="edge-1"] button').count()).toBe(0);
        expect(await readPage.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
      } finally {
        await readContext.close();
      }

      // ---- remove: the confirmation names the runner ----
      stage = 'remove';
      let asked = '';
      page.once('dialog', (d) => {
        asked = d.message();
        void d.accept();
      });
      await page.getByRole('button', { name: 'Remove edge-1' }).click();
      await row().waitFor({ state: 'detached' });
      expect(asked).toContain('edge-1');
      expect((await server.client.listPushRunners()).runnerHosts).toEqual([]);
      expect(errors.filter((e) => !e.startsWith('Failed to load resource'))).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});
