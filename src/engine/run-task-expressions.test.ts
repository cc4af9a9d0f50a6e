import { createHash } from 'node:crypto';
import { arch } from 'node:os';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { makeTask, runCollected } from './test-support.ts';

describe('runTask: expressions, conditions and continue_on_error', () => {
  it('evaluates env in layers: workflow, task (sees workflow), imports, step (sees all), then run', async () => {
    const task = makeTask(
      [
        {
          name: 'show',
          env: { STEP: '${{ env.TASK }}+step', W: 'step-wins' },
          run: 'echo "W=$W T=$TASK S=$STEP I=$IMPORTED R=${{ env.STEP }} in=${{ inputs.who }}"',
        },
      ],
      {
        workflowEnv: { W: 'wf', BASE: '${{ inputs.who }}' },
        env: { TASK: '${{ env.BASE }}-task', W: '${{ env.W }}-over' },
        context: { inputs: { who: 'ann' }, imports: { IMPORTED: 'from-dep' } },
      },
    );
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('W=step-wins T=ann-task S=ann-task+step I=from-dep R=ann-task+step in=ann\n');
  });

  it('gives imports to every step as env vars, under the step env and over the task env', async () => {
    const task = makeTask(
      [{ run: 'echo "$VERSION"' }, { run: 'echo "$VERSION"', env: { VERSION: 'step' } }],
      { env: { VERSION: 'task' }, context: { imports: { VERSION: '1.2.3' } } },
    );
    const { output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('1.2.3\nstep\n');
  });

  it('reads tasks, matrix, run and runner contexts', async () => {
    const task = makeTask(
      [
        {
          run: [
            'echo "dep=${{ tasks.compile.outputs.artifact }} ${{ needs.compile.result }}"',
            'echo "os=${{ matrix.os }} run=${{ run.id }}"',
            'echo "runner=${{ runner.name }} ${{ runner.os }} ${{ runner.arch }}"',
            'test -d "${{ runner.temp }}" && test "${{ runner.temp }}" = "$RUNNER_TEMP" && echo temp-ok',
          ].join('\n'),
        },
      ],
      {
        runId: 'r-42',
        context: {
          tasks: { compile: { outputs: { artifact: 'app.tgz' }, result: 'succeeded' } },
          matrix: { os: 'debian' },
        },
      },
    );
    const { outcome, output } = await runCollected(task, { workRoot: tempDir(), runnerName: 'rn-1' });
    expect(outcome.status).toBe('succeeded');
    const cpu = arch() === 'arm64' ? 'ARM64' : 'X64';
    expect(output).toBe(`dep=app.tgz succeeded\nos=debian run=r-42\nrunner=rn-1 Linux ${cpu}\ntemp-ok\n`);
  });

  it('gives later steps the outputs, outcome and conclusion of earlier ones by name', async () => {
    const task = makeTask([
      { name: 'make', run: 'echo "v=7" >> "$BATON_OUTPUT"' },
      { name: 'flaky', run: 'exit 1', continueOnError: true },
      {
        name: 'report',
        run: 'echo "${{ steps.make.outputs.v }} ${{ steps.make.outcome }} ${{ steps.flaky.outcome }} ${{ steps.flaky.conclusion }}"',
      },
    ]);
    const { outcome, output, system } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('7 success failure success\n');
    expect(outcome.status).toBe('succeeded');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(system).toContain("step 'flaky' exited with code 1 (continue_on_error: the task goes on)");
  });

  it('skips a step whose if is false and says why', async () => {
    const task = makeTask(
      [
        { name: 'deploy', if: "inputs.target == 'prod'", run: 'echo deploying' },
        { name: 'always-here', run: 'echo here' },
      ],
      { context: { inputs: { target: 'staging' } } },
    );
    const { outcome, output, system } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    expect(output).toBe('here\n');
    expect(outcome.steps.map((s) => s.status)).toEqual(['skipped', 'succeeded']);
    expect(system).toContain("step 'deploy' skipped: its condition 'inputs.target == 'prod'' is false");
  });

  it('after a failure runs only always() and failure() steps; the failure decides the task', async () => {
    const task = makeTask([
      { name: 'build', run: 'exit 3' },
      { name: 'test', run: 'echo test' },
      { name: 'plain-true', if: 'true', run: 'echo plain' },
      { name: 'on-failure', if: '${{ failure() }}', run: 'echo failure-handler' },
      { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
      { name: 'on-success', if: 'success()', run: 'echo success' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(output).toBe('failure-handler\ncleanup\n');
    expect(outcome).toMatchObject({ status: 'failed', reason: 'exit_code', exitCode: 3 });
    expect(outcome.message).toBe("step 'build' exited with code 3");
    expect(outcome.steps.map((s) => s.status)).toEqual([
      'failed',
      'skipped',
      'skipped',
      'succeeded',
      'succeeded',
      'skipped',
    ]);
  });

  it('fails with setup_failed naming the step and the expression when one cannot be evaluated', async () => {
    const task = makeTask([
      { name: 'first', run: 'echo first' },
      { name: 'broken', run: 'echo ${{ nosuch.thing }}' },
      { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toMatch(/^cannot evaluate step 'broken' run: .*'nosuch.thing'/);
    expect(output).toBe('first\ncleanup\n');
    expect(outcome.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'succeeded']);
  });

  it('fails before any step when the task env has a bad expression, naming the variable', async () => {
    const task = makeTask([{ run: 'echo never' }], { env: { BAD: '${{ fromJSON(inputs.x) }}' } });
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toMatch(/^cannot evaluate task 'build' env 'BAD': /);
    expect(output).toBe('');
  });

  it('refuses a bad if condition as a setup failure of that step', async () => {
    const task = makeTask([{ name: 'odd', if: 'inputs.a ==', run: 'echo x' }]);
    const { outcome } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'setup_failed' });
    expect(outcome.message).toMatch(/^cannot evaluate step 'odd' if: /);
  });

  it('evaluates hashFiles over the work dir, sorted, as GitHub combines it', async () => {
    const task = makeTask([
      { run: 'mkdir -p lib\nprintf one > lib/b.txt\nprintf two > lib/a.txt\nprintf x > other.md' },
      { run: 'echo "h=${{ hashFiles(\'lib/*.txt\') }}"\necho "none=[${{ hashFiles(\'*.nomatch\') }}]"' },
    ]);
    const { outcome, output } = await runCollected(task, { workRoot: tempDir() });
    expect(outcome.status).toBe('succeeded');
    const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
    const expected = createHash('sha256').update(sha('two')).update(sha('one')).digest('hex');
    expect(output).toBe(`h=${expected}\nnone=[]\n`);
  });

  it('after a cancel runs only steps that ask for always() or cancelled(), then ends cancelled', async () => {
    const controller = new AbortController();
    const task = makeTask([
      { name: 'long', run: 'echo started\nexec sleep 600' },
      { name: 'normal', run: 'echo normal' },
      { name: 'on-failure', if: 'failure()', run: 'echo failure' },
      { name: 'on-cancel', if: 'cancelled()', run: 'echo "cancelled-handler ${{ steps.long.outcome }}"' },
      { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
    ]);
    const { outcome, output } = await runCollected(task, {
      workRoot: tempDir(),
      signal: controller.signal,
      cancelGraceMs: 5_000,
      onLog: (e) => {
        if (e.text.includes('started')) controller.abort();
      },
    });
    expect(output).toBe('started\ncancelled-handler cancelled\ncleanup\n');
    expect(outcome).toMatchObject({ status: 'cancelled', reason: 'cancelled' });
    expect(outcome.message).toBe("task 'build' was cancelled during step 'long'");
    expect(outcome.steps.map((s) => s.status)).toEqual([
      'cancelled',
      'skipped',
      'skipped',
      'succeeded',
      'succeeded',
    ]);
  });

  it('runs nothing more when a cancel had to end in SIGKILL', async () => {
    const controller = new AbortController();
    const task = makeTask([
      { name: 'stubborn', run: "trap '' TERM\necho started\nwhile true; do sleep 0.1; done" },
      { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
    ]);
    const { outcome, output } = await runCollected(task, {
      workRoot: tempDir(),
      signal: controller.signal,
      cancelGraceMs: 300,
      onLog: (e) => {
        if (e.text.includes('started')) controller.abort();
      },
    });
    expect(output).toBe('started\n');
    expect(outcome.status).toBe('cancelled');
    expect(outcome.steps.map((s) => s.status)).toEqual(['cancelled', 'skipped']);
  });

  it('runs always() steps after a step timeout, but nothing after the task timeout', async () => {
    const byStep = makeTask([
      { name: 'slow', run: 'exec sleep 600', timeoutMs: 300 },
      { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
    ]);
    const first = await runCollected(byStep, { workRoot: tempDir(), cancelGraceMs: 300 });
    expect(first.outcome.status).toBe('timed_out');
    expect(first.output).toBe('cleanup\n');

    const byTask = makeTask(
      [
        { name: 'slow', run: 'exec sleep 600' },
        { name: 'cleanup', if: 'always()', run: 'echo cleanup' },
      ],
      { timeoutMs: 300 },
    );
    const second = await runCollected(byTask, { workRoot: tempDir(), cancelGraceMs: 300 });
    expect(second.outcome.status).toBe('timed_out');
    expect(second.output).toBe('');
  });
});
