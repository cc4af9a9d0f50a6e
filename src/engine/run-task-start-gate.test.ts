// EngineOptions.started: the runner sends `start` while the engine prepares the task, so no step may run
// before the server acknowledged it, and none at all when it did not. A contained step's init is spawned early
// and waits for its environment; any other step is spawned only after the acknowledgement.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepVisibleDir, tempDir } from '../../test/helpers/temp.ts';
import { sandboxPlan } from './sandbox.ts';
import { makeTask, runCollected, waitFor } from './test-support.ts';
import type { Containment, StepEvent } from './types.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));
const contained: Containment[] = ['namespace', ...(canRunBwrap ? (['sandbox'] as const) : [])];
const uncontained: Containment[] = ['pdeathsig', 'none'];

/** A promise with its settlers. */
function gate(): { promise: Promise<void>; open: () => void; refuse: () => void } {
  let open = () => {};
  let refuse = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    refuse = () => reject(new Error('the start was not acknowledged'));
  });
  promise.catch(() => {});
  return { promise, open, refuse };
}

/** The step leaves a marker where the test can see it (not in a sandbox, which has no /var/tmp) and prints. */
function markerTask(marker: string) {
  return makeTask([{ name: 'mark', run: `{ echo ran > '${marker}'; } 2>/dev/null || true; echo ran` }]);
}

/** Runs the marker task under `containment` behind `started`, with its step events and stdout recorded. */
function runGated(containment: Containment, marker: string, started: Promise<void>) {
  const events: StepEvent[] = [];
  let printed = '';
  const run = runCollected(markerTask(marker), {
    workRoot: tempDir(),
    controlDir: tempDir(),
    containment,
    started,
    onStep: (e) => events.push(e),
    onLog: (e) => {
      if (e.stream === 'stdout') printed += e.text;
    },
  });
  return { run, events, printed: () => printed };
}

describe('a step and the acknowledgement of its start', () => {
  for (const containment of contained) {
    it(`${containment}: the init is spawned before the acknowledgement; the step runs only after it`, async () => {
      const marker = join(stepVisibleDir(), 'ran');
      const started = gate();
      const { run, events, printed } = runGated(containment, marker, started.promise);
      await waitFor(() => events.some((e) => e.state === 'started'), 'the step init to be spawned');
      // Spawned and waiting for its environment: give it the time it would need to run, then check it did not.
      await new Promise((r) => setTimeout(r, 300));
      expect(printed()).toBe('');
      expect(existsSync(marker)).toBe(false);
      started.open();
      const { outcome, output, system } = await run;
      expect(outcome.status, `${outcome.message}\n${system}`).toBe('succeeded');
      expect(output).toBe('ran\n');
      if (containment !== 'sandbox') expect(existsSync(marker)).toBe(true);
    });

    it(`${containment}: refused, the spawned init never gets the environment and the step never runs`, async () => {
      const marker = join(stepVisibleDir(), 'ran');
      const started = gate();
      const { run, events } = runGated(containment, marker, started.promise);
      await waitFor(() => events.some((e) => e.state === 'started'), 'the step init to be spawned');
      started.refuse();
      const { outcome, output } = await run;
      expect(outcome.status).not.toBe('succeeded');
      expect(output).toBe('');
      expect(existsSync(marker)).toBe(false);
    });
  }

  for (const containment of uncontained) {
    it(`${containment}: the step is spawned only after the acknowledgement`, async () => {
      const marker = join(stepVisibleDir(), 'ran');
      const started = gate();
      const { run, events } = runGated(containment, marker, started.promise);
      const spawned = () => events.filter((e) => e.state === 'started');
      await new Promise((r) => setTimeout(r, 300));
      expect(spawned()).toEqual([]); // nothing spawned before the acknowledgement
      expect(existsSync(marker)).toBe(false);
      started.open();
      const { outcome } = await run;
      expect(outcome.status).toBe('succeeded');
      expect(spawned()).toHaveLength(1);
      expect(existsSync(marker)).toBe(true);
    });

    it(`${containment}: refused, nothing is spawned and the task ends cancelled`, async () => {
      const marker = join(stepVisibleDir(), 'ran');
      const started = gate();
      const { run, events } = runGated(containment, marker, started.promise);
      started.refuse();
      const { outcome, output } = await run;
      expect(outcome.status).toBe('cancelled');
      expect(outcome.message).toContain("the server did not acknowledge the attempt's start");
      expect(events.filter((e) => e.state === 'started')).toEqual([]);
      expect(output).toBe('');
      expect(existsSync(marker)).toBe(false);
    });
  }
});
