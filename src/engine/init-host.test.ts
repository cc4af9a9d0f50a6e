// The init host's fallback (init-host.ts, docs/adr/0025-init-host.md): a host that cannot run answers no hold,
// and after three failures in a row it is not started again, so the runner spawns its held inits itself.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { InitHost } from './init-host.ts';
import { waitFor } from './test-support.ts';

describe('InitHost', () => {
  it('answers no hold from a host that exits at once, and gives the host up after three failures', async () => {
    const dir = tempDir();
    const path = join(dir, 'not-a-host');
    const started = join(dir, 'started');
    // Records each start, then exits without a word on the channel.
    writeFileSync(path, `#!/bin/sh\necho "$1" >> ${JSON.stringify(started)}\nexit 3\n`);
    chmodSync(path, 0o755);
    const host = new InitHost(path);
    // Each hold is answered with nothing, and once its host is seen gone the next hold starts another.
    for (let i = 0; i < 3; i++) {
      expect(host.usable).toBe(true);
      expect(await host.hold()).toBeUndefined();
      await waitFor(() => host.pid === undefined, 'the host to be seen gone');
    }
    expect(host.usable).toBe(false);
    expect(await host.hold()).toBeUndefined();
    expect(readFileSync(started, 'utf8')).toBe('--host\n--host\n--host\n');
    host.close();
  });

  it('is not started at all once closed', async () => {
    const dir = tempDir();
    const started = join(dir, 'started');
    const path = join(dir, 'host');
    writeFileSync(path, `#!/bin/sh\necho started >> ${JSON.stringify(started)}\n`);
    chmodSync(path, 0o755);
    const host = new InitHost(path);
    host.close();
    expect(host.usable).toBe(false);
    expect(await host.hold()).toBeUndefined();
    expect(existsSync(started)).toBe(false);
  });
});
