// `baton runs list | show ID | explain ID [TASK] (alias pending) | logs ID [TASK] | cancel ID`: look at and steer runs on a server.
import { resolveRun } from '../resolve.ts';
import { downloadArtifacts } from '../artifacts.ts';
import { watchPending } from '../pending-hints.ts';
import type { Command } from 'commander';
import { RUN_SHAPES, RUN_STATUSES, type RunShape, type RunStatus } from '../../protocol/status.ts';
import { CliError, connect, EXIT, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { ApiError, type BatonClient } from '../../client/index.ts';
import { exitCodeFor, followRun, printSummary } from '../follow.ts';
import {
  createOut,
  durationBetween,
  paint,
  printJson,
  statusColour,
  statusSymbol,
  type Out,
  formatAgo,
} from '../output.ts';
import type { PendingExplanation } from '../../protocol/api.ts';

interface JsonFlags extends ConnectionFlags {
  json?: boolean;
}

/** `--shape`: one of RUN_SHAPES, else a usage error naming them. */
export function checkShape(shape: string | undefined): RunShape {
  if (shape === undefined) return 'run';
  if (!(RUN_SHAPES as readonly string[]).includes(shape))
    throw new CliError(`--shape must be one of ${RUN_SHAPES.join(', ')}; got '${shape}'`);
  return shape as RunShape;
}

export function registerRuns(program: Command, setExit: (code: number) => void): void {
  const runs = program.command('runs').description('list, inspect, follow and cancel runs');
  const out = createOut();
  const guard = guarded(out, setExit);

  withConnection(runs.command('list').description('recent runs, newest first'))
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('--name <text>', 'only runs whose name contains this text (any case)')
    .option('--limit <n>', 'how many', '20')
    .action((flags: JsonFlags & { status?: string; name?: string; limit: string }) =>
      guard(async () => {
        if (flags.status && !(RUN_STATUSES as readonly string[]).includes(flags.status)) {
          throw new CliError(`--status must be one of ${RUN_STATUSES.join(', ')}; got '${flags.status}'`);
        }
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new CliError(`--limit must be 1–500, got '${flags.limit}'`);
        const res = await connect(flags).listRuns({
          status: flags.status as RunStatus | undefined,
          name: flags.name,
          limit,
        });
        if (flags.json) return printJson(out, res);
        if (res.runs.length === 0)
          return out.write(flags.name ? `no runs named like '${flags.name}'\n` : 'no runs\n');
        for (const r of res.runs) {
          out.write(
            `${r.id}  ${paint(out, statusColour(r.status), `${statusSymbol(r.status)} ${r.status.padEnd(11)}`)} ${r.name.padEnd(24)} ${`${r.tasksDone}/${r.taskCount}`.padStart(7)} tasks  ${formatAgo(Date.parse(r.createdAt)).padEnd(12)} ${durationBetween(r.startedAt, r.finishedAt).padStart(7)}${r.submittedBy === null ? '' : `  by ${r.submittedBy}`}\n`,
          );
        }
      }, flags.json),
    );

  withConnection(
    runs
      .command('show')
      .description('a run and its tasks')
      .argument('<run>', 'its id, or a workflow name: the latest run of that name'),
  )
    .option(
      '--shape <shape>',
      `run (default), or task-group: the Harness task-group result {id, results}, printed as JSON`,
    )
    .action((which: string, flags: JsonFlags & { shape?: string }) =>
      guard(
        async () => {
          const client = connect(flags);
          const id = await resolveRun(client, which);
          if (checkShape(flags.shape) === 'task-group')
            return printJson(out, await client.getTaskGroupResult(id));
          const run = await client.getRun(id);
          if (flags.json) return printJson(out, run);
          printSummary(run, out, { steps: true });
        },
        flags.json || flags.shape !== undefined,
      ),
    );

  withConnection(
    runs
      .command('explain')
      .alias('pending')
      .description(
        'why tasks are not running: per runner, one reason code (offline, tag_mismatch, at_capacity, …) and a sentence; every waiting task of the run when TASK is omitted',
      )
      .argument('<run>', 'its id, or a workflow name: the latest run of that name')
      .argument('[task]'),
  ).action((which: string, task: string | undefined, flags: JsonFlags) =>
    guard(async () => {
      const client = connect(flags);
      const id = await resolveRun(client, which);
      if (task !== undefined) {
        const answer = await client.whyPending(id, task);
        if (flags.json) return printJson(out, answer);
        return printExplanation(out, answer);
      }
      const run = await client.getRun(id);
      const waiting = Object.values(run.results)
        .filter((t) => t.status === 'pending' || t.status === 'queued')
        .map((t) => t.name);
      const tasks = [];
      for (const name of waiting) tasks.push(await client.whyPending(id, name));
      if (flags.json) return printJson(out, { runId: id, status: run.status, tasks });
      if (tasks.length === 0) return out.write(`run ${id} (${run.status}) has no task waiting\n`);
      for (const answer of tasks) printExplanation(out, answer);
    }, flags.json),
  );

  withConnection(
    runs
      .command('logs')
      .description('the log of one task, or of every task with a name prefix; --follow streams it live')
      .argument('<run>', 'its id, or a workflow name: the latest run of that name')
      .argument('[task]'),
  )
    .option('-f, --follow', 'stream new lines until the task ends')
    .option('--attempt <n>', 'which attempt (default: the latest)')
    .option('--step <name>', "only this step's part of the task's log (its name, or its number from 1)")
    .action(
      (
        which: string,
        task: string | undefined,
        flags: JsonFlags & { follow?: boolean; attempt?: string; step?: string },
      ) =>
        guard(async () => {
          const client = connect(flags);
          const id = await resolveRun(client, which);
          if (flags.step !== undefined) {
            if (task === undefined || flags.follow || flags.attempt !== undefined)
              throw new CliError('--step needs a TASK, and goes without --follow and --attempt', EXIT.usage);
            const text = await stepLog(client, id, task, flags.step);
            if (flags.json) return printJson(out, { runId: id, task, step: flags.step, log: text });
            out.write(text);
            if (text !== '' && !text.endsWith('\n')) out.write('\n');
            return;
          }
          if (flags.follow && !task) {
            const result = await followRun(client, id, out);
            return exitCodeFor(result);
          }
          const run = await client.getRun(id);
          const names = task ? [task] : Object.keys(run.results);
          if (task && !run.results[task])
            throw new CliError(
              `run ${id} has no task '${task}'; its tasks are: ${Object.keys(run.results).join(', ')}`,
            );
          const attempt = flags.attempt ? Number(flags.attempt) : undefined;
          if (flags.follow && task) {
            // A task still queued after a few seconds: say why (the same reasons as `runs explain`).
            const hints = watchPending(client, id, out);
            hints.seen(task, run.results[task]!.status);
            try {
              for await (const text of client.followTaskLog(id, task)) out.write(text);
            } finally {
              hints.stop();
            }
            return;
          }
          const logs: Record<string, string> = {};
          for (const name of names) logs[name] = await client.taskLog(id, name, attempt);
          if (flags.json) return printJson(out, { runId: id, logs });
          for (const name of names) {
            if (!task) out.write(paint(out, 'bold', `== ${name} ==`) + '\n');
            out.write(logs[name] ?? '');
            if (logs[name] && !logs[name].endsWith('\n')) out.write('\n');
          }
        }, flags.json),
    );

  withConnection(
    runs
      .command('artifacts')
      .description(
        "a run's artifacts (each task's zipped uploads); --download saves them as DIR/<task>-<name>.zip",
      )
      .argument('<run>', 'its id, or a workflow name: the latest run of that name'),
  )
    .option('--download <dir>', 'save every artifact into this directory')
    .action((which: string, flags: JsonFlags & { download?: string }) =>
      guard(async () => {
        const client = connect(flags);
        const id = await resolveRun(client, which);
        const { artifacts } = await client.listArtifacts(id);
        const saved = flags.download ? await downloadArtifacts(client, id, flags.download) : [];
        if (flags.json) return printJson(out, { artifacts, saved });
        if (artifacts.length === 0) return out.write(`run ${id} has no artifacts\n`);
        for (const a of artifacts) {
          out.write(
            `${a.id}  ${a.task.padEnd(20)} ${a.name.padEnd(12)} ${String(a.sizeBytes).padStart(10)} bytes  sha256 ${a.sha256.slice(0, 12)}\n`,
          );
        }
        for (const p of saved) out.write(`saved ${p}\n`);
      }, flags.json),
    );

  withConnection(
    runs
      .command('cancel')
      .description('cancel a run: queued tasks stop at once, running ones within a heartbeat')
      .argument('<run>', 'its id, or a workflow name: the latest run of that name'),
  ).action((which: string, flags: JsonFlags) =>
    guard(async () => {
      const client = connect(flags);
      const id = await resolveRun(client, which);
      const run = await client.cancelRun(id);
      if (flags.json) return printJson(out, run);
      out.write(`cancel requested for run ${id} (${run.status})\n`);
    }, flags.json),
  );
}

/** One task's explanation: its summary, then per runner the one reason that decides (and any others after it). */
function printExplanation(out: Out, answer: PendingExplanation): void {
  out.write(`${paint(out, 'bold', answer.task)} (${answer.status}): ${answer.summary}\n`);
  if (answer.status !== 'queued') return;
  for (const runner of answer.runners) {
    const head = `  ${runner.name} (${runner.status}): `;
    if (runner.reason === null) {
      out.write(`${head}${paint(out, 'green', 'can take it')}\n`);
      continue;
    }
    out.write(`${head}${paint(out, 'yellow', runner.reason.code)} — ${runner.reason.message}\n`);
    for (const other of runner.reasons.slice(1)) out.write(`      also ${other.code}: ${other.message}\n`);
  }
}

/** The bytes of a task's log that one step wrote (the range its runner reported when the attempt ended). */
async function stepLog(client: BatonClient, runId: string, task: string, which: string): Promise<string> {
  const result = await client.getTask(runId, task).catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 404)
      throw new CliError(`run ${runId} has no task '${task}'`, EXIT.failed);
    throw err;
  });
  const steps = result.steps ?? [];
  if (steps.length === 0)
    throw new CliError(
      result.status === 'running' || result.status === 'queued' || result.status === 'pending'
        ? `task '${task}' is ${result.status}: its steps are recorded when it ends; follow its log with --follow`
        : `task '${task}' has no recorded steps`,
      EXIT.failed,
    );
  const index = /^[0-9]+$/.test(which) ? Number(which) - 1 : steps.findIndex((s) => s.name === which);
  const step = steps[index];
  if (step === undefined)
    throw new CliError(
      `task '${task}' has no step '${which}'; its steps are ${steps
        .filter((s) => s.name !== '__outputs')
        .map((s, i) => `${i + 1} ${s.name}`)
        .join(', ')}`,
      EXIT.failed,
    );
  if (step.logStart === undefined) return '';
  const log = Buffer.from(await client.taskLog(runId, task), 'utf8');
  return log.subarray(step.logStart, step.logEnd ?? log.length).toString('utf8');
}
