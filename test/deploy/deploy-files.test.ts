// deploy/: the compose file parses as YAML with PostgreSQL, the server and two runners wired together, and the
// Dockerfile has the server and runner targets it builds. (The systemd units are verified by systemd-analyze in
// install.test.ts, against a real install; nothing here builds an image.)
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; target: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  cap_add?: string[];
  volumes?: string[];
  restart?: string;
}

describe('deploy/', () => {
  it('compose.yaml: PostgreSQL, a server on it and two runners registering with it', () => {
    const compose = parse(readFileSync(`${DEPLOY}compose.yaml`, 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
      volumes: Record<string, unknown>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'runner-1', 'runner-2', 'server']);
    const { postgres, server } = compose.services;
    expect(postgres!.image).toMatch(/^postgres:\d+/);
    expect(server!.build).toMatchObject({ dockerfile: 'deploy/Dockerfile', target: 'server' });
    expect(server!.environment!.BATON_DATABASE_URL).toMatch(
      /^postgres:\/\/baton:\$\{POSTGRES_PASSWORD\}@postgres:5432\/baton$/,
    );
    expect(server!.depends_on!.postgres!.condition).toBe('service_healthy');
    for (const name of ['runner-1', 'runner-2']) {
      const r = compose.services[name]!;
      expect(r.build).toMatchObject({ target: 'runner' });
      expect(r.environment!.BATON_SERVER).toBe('http://server:8480');
      // The same registration token as the server's, never a literal in the file.
      expect(r.environment!.BATON_RUNNER_REGISTRATION_TOKEN).toBe(
        server!.environment!.BATON_RUNNER_REGISTRATION_TOKEN,
      );
      expect(r.environment!.BATON_RUNNER_REGISTRATION_TOKEN).toMatch(
        /^\$\{BATON_RUNNER_REGISTRATION_TOKEN:\?/,
      );
      expect(r.cap_add).toEqual(['SYS_ADMIN']);
      expect(r.restart).toBe('on-failure');
      expect(r.volumes![0]).toBe(`${name}:/var/lib/baton-runner`);
    }
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres', 'runner-1', 'runner-2', 'server-data']);
  });

  it('Dockerfile: from node:24, production dependencies only, a server and a runner target', () => {
    const text = readFileSync(`${DEPLOY}Dockerfile`, 'utf8');
    const stages = [...text.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => [m[2], m[1]]);
    expect(Object.fromEntries(stages)).toEqual({
      ui: 'node:24-bookworm-slim',
      base: 'node:24-bookworm-slim',
      server: 'base',
      runner: 'base',
    });
    expect(text).toContain('npm ci --omit=dev');
    expect(text).toMatch(/^USER node$/m);
    expect(text).toContain('COPY deploy/runner-entrypoint.sh');
  });
});
