// An in-process server app on a fresh SQLite file, driven with inject() (no socket), and a controllable clock.
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  buildServerConfig,
  createServer,
  generateToken,
  hashToken,
  WORKFLOW_POLICY,
  type ServerConfig,
} from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { ServerContext } from '../../src/server/context.ts';
import { tempDir } from './temp.ts';

export interface TestApp {
  app: FastifyInstance;
  /** Every route the server registered (method and URL pattern). */
  routes: Array<{ method: string; url: string }>;
  ctx: ServerContext;
  store: Store;
  clock: { now: number; advance(ms: number): void };
  adminToken: string;
  registrationToken: string;
  /** Registers a runner and returns its token and id. */
  registerRunner(name?: string, labels?: string[]): Promise<{ runnerId: string; token: string }>;
  submit(
    workflow: string,
    inputs?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function createTestApp(overrides: Partial<ServerConfig> = {}): Promise<TestApp> {
  const dir = tempDir();
  const adminToken = generateToken('user');
  const registrationToken = generateToken('registration');
  const config = buildServerConfig({ dataDir: dir, database: join(dir, 'baton.db'), env: {}, ...overrides });
  const store = await openStore({
    database: config.database,
    timings: { leaseTtlMs: config.leaseTtlMs, ackWindowMs: config.ackWindowMs },
    policy: WORKFLOW_POLICY,
  });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const clock = {
    now: t0,
    advance(ms: number) {
      clock.now += ms;
    },
  };
  await store.credentials.insertToken({
    kind: 'user',
    name: 'admin',
    hash: hashToken(adminToken),
    created_at: t0,
    expires_at: null,
    single_use: 0,
  });
  await store.credentials.insertToken({
    kind: 'registration',
    name: 'test',
    hash: hashToken(registrationToken),
    created_at: t0,
    expires_at: null,
    single_use: 0,
  });
  const { app, ctx, routes } = await createServer({ config, store, now: () => clock.now, logger: false });
  onTestFinished(async () => {
    await app.close();
    await store.close();
  });
  return {
    app,
    ctx,
    routes,
    store,
    clock,
    adminToken,
    registrationToken,
    async registerRunner(name = 'r1', labels: string[] = []) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/runners/register',
        headers: { authorization: `Bearer ${registrationToken}` },
        payload: { name, labels, capacity: 1, version: 'test' },
      });
      if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
      return res.json() as { runnerId: string; token: string };
    },
    async submit(workflow: string, inputs?: Record<string, string>) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/runs',
        headers: { authorization: `Bearer ${adminToken}` },
        payload: { workflow, ...(inputs ? { inputs } : {}) },
      });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    },
  };
}
