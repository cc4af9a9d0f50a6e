// Steps compiled from a GitHub action (`actionPath`): GITHUB_ACTION_PATH is the action's directory in the
// workspace ("Metadata syntax for GitHub Actions", github.action_path) and BATON_NODE the runner's own Node,
// also inside a sandbox, which otherwise shows only the system and the task's own dirs.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { sandboxPlan } from './sandbox.ts';
import { makeTask, runCollected } from './test-support.ts';

const canRunBwrap = !('error' in (await sandboxPlan()));

const SCRIPT = [
  'mkdir -p act && echo "console.log(\'node \' + process.version)" > act/main.js',
  'echo "path=$GITHUB_ACTION_PATH env=${{ env.GITHUB_ACTION_PATH }}"',
  'exec "$BATON_NODE" "$GITHUB_ACTION_PATH/main.js"',
].join('\n');

describe('the variables of an action step', () => {
  it("gives an action step its directory and the runner's Node, and a plain step neither", async () => {
    const result = await runCollected(
      makeTask([{ run: SCRIPT, actionPath: 'act' }, { run: 'echo "plain=${GITHUB_ACTION_PATH-unset}"' }]),
      { workRoot: tempDir() },
    );
    expect(result.outcome.status, result.system).toBe('succeeded');
    expect(result.output).toMatch(/path=(\/\S+\/act) env=\1\n/);
    expect(result.output).toContain(`node ${process.version}`);
    expect(result.output).toContain('plain=unset');
  });

  it.runIf(canRunBwrap)("runs the runner's Node inside a sandbox (bwrap)", async () => {
    const result = await runCollected(makeTask([{ run: SCRIPT, actionPath: 'act' }]), {
      workRoot: tempDir(),
      containment: 'sandbox',
    });
    expect(result.outcome.status, result.system).toBe('succeeded');
    expect(result.output).toContain(`node ${process.version}`);
  });
});
