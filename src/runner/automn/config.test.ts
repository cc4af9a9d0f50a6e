import { describe, expect, it } from 'vitest';
import { scriptBaseEnv, serveConfig } from './config.ts';

describe('serveConfig', () => {
  it('reads AUTOMN_* and BATON_SERVE_* (which wins), and builds the endpoint from the public URL and path', () => {
    const c = serveConfig({
      AUTOMN_HOST_URL: 'http://automn:8088/',
      AUTOMN_RUNNER_ID: 'r1',
      BATON_SERVE_ID: 'r9',
      AUTOMN_RUNNER_PUBLIC_URL: 'http://runner:3030/',
      AUTOMN_RUNNER_ENDPOINT_PATH: 'run',
      AUTOMN_RUNNER_DATA_DIR: '/srv/r',
      BATON_SERVE_LOCAL_MAX_CONCURRENCY: '2',
    });
    expect(c).toMatchObject({
      hostUrl: 'http://automn:8088',
      runnerId: 'r9',
      endpointUrl: 'http://runner:3030/run',
      stateDir: '/srv/r/state',
      scriptsDir: '/srv/r/scripts',
      workDir: '/srv/r/script_workdir',
      heartbeatMs: 60_000,
      localMaxConcurrency: 2,
      port: 3030,
      stdoutMarkers: false,
    });
  });

  it('names the variable, the value and the limit of a bad number or switch', () => {
    expect(() => serveConfig({ AUTOMN_RUNNER_HEARTBEAT_MS: '10' })).toThrow(
      "AUTOMN_RUNNER_HEARTBEAT_MS (or its BATON_SERVE_ form) is '10': it must be a whole number of at least 1000",
    );
    expect(() => serveConfig({ PORT: 'http' })).toThrow(
      "PORT is 'http': it must be a whole number of at least 0",
    );
    expect(() => serveConfig({ BATON_SERVE_STDOUT_MARKERS: 'maybe' })).toThrow(
      "AUTOMN_RUNNER_STDOUT_MARKERS (or its BATON_SERVE_ form) is 'maybe': it must be true or false",
    );
  });
});

describe('scriptBaseEnv', () => {
  it('drops BATON_*/AUTOMN_* settings and any variable holding a secret', () => {
    expect(
      scriptBaseEnv({ PATH: '/bin', AUTOMN_RUNNER_ID: 'r1', BATON_SERVE_X: 'x', COPY: 's3cret-value' }, [
        's3cret-value',
        undefined,
      ]),
    ).toEqual({ PATH: '/bin' });
  });
});
