// A real server listening on an ephemeral loopback port inside the test process, with an admin client and
// helpers to register a runner and take an offer through the real HTTP protocol.
import { onTestFinished } from 'vitest';
import { createClient, type BatonClient } from '../../src/client/index.ts';
import type { AcquireResponse } from '../../src/protocol/api.ts';
import {
  buildServerConfig,
  generateToken,
  startServer,
  type ServerConfig,
  type StartedServer,
} from '../../src/server/index.ts';
import { tempDir } from './temp.ts';

export interface LiveServer {
  server: StartedServer;
  admin: BatonClient;
  registerRunner(name?: string, labels?: string[], o?: { ephemeral?: boolean }): Promise<BatonClient>;
  /** Submits a workflow and takes its first task as `runner`, confirmed with start. */
  offer(runner: BatonClient, workflow: string): Promise<AcquireResponse>;
}

export async function startLiveServer(overrides: Partial<ServerConfig> = {}): Promise<LiveServer> {
  const adminToken = generateToken('user');
  const registrationToken = generateToken('registration');
  const config = buildServerConfig({
    port: 0,
    dataDir: tempDir(),
    adminToken,
    registrationToken,
    env: {},
    ...overrides,
  });
  const server = await startServer(config, { logger: false });
  onTestFinished(() => server.close());
  const admin = createClient({ baseUrl: server.url, token: adminToken });
  return {
    server,
    admin,
    async registerRunner(name = 'r1', labels: string[] = [], o: { ephemeral?: boolean } = {}) {
      const reg = await admin.register(registrationToken, {
        name,
        labels,
        capacity: 1,
        version: 'test',
        ...(o.ephemeral ? { ephemeral: true } : {}),
      });
      return createClient({ baseUrl: server.url, token: reg.token });
    },
    async offer(runner, workflow) {
      await admin.submitRun(workflow);
      const offer = await runner.acquire(1, 5_000);
      if (!offer) throw new Error('no offer');
      await runner.start(offer.lease);
      return offer;
    },
  };
}
