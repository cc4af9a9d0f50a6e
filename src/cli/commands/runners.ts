// `baton runners list | show ID|NAME | remove ID | disable ID | enable ID`: the fleet as the server sees it.
import { resolveRunner } from '../resolve.ts';
import type { Command } from 'commander';
// Types only from api.ts: its TypeBox schemas would add ~13 MiB to every CLI process, the runner's included.
import type { RunnerDetail, RunnerTask } from '../../protocol/api.ts';
import { RUNNER_RECENT_TASKS_MAX } from '../../protocol/limits.ts';
import { CliError, connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import {
  createOut,
  formatDuration,
  paint,
  printJson,
  statusColour,
  statusSymbol,
  type Out,
} from '../output.ts';

export function registerRunners(program: Command, setExit: (code: number) => void): void {
  const runners = program
    .command('runners')
    .description('list and manage the runners registered with a server');
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'user');
  const guard = guarded(out, setExit);
  conn(runners.command('list').description('every runner, its labels and status')).action(
    (flags: ConnectionFlags & { json?: boolean }) =>
      guard(async () => {
        const res = await connect(flags).listRunners();
        if (flags.json) return printJson(out, res);
        if (res.runners.length === 0)
          return out.write(
            'no runners; to add one, install baton on its machine (`npm install -g ./baton-<version>.tgz` with Node.js 24 on PATH; README, "Installing a runner"), then `baton token create --registration` and `baton runner register`\n',
          );
        for (const r of res.runners) {
          out.write(
            `${r.id}  ${r.name.padEnd(20)} ${r.status.padEnd(9)} ${r.activeTasks}/${r.capacity}  ${(r.report?.isolation ?? '—').padEnd(7)}  [${r.labels.join(', ')}]  v${r.version}${r.ephemeral === true ? '  ephemeral' : ''}\n`,
          );
        }
      }, flags.json),
  );
  conn(
    runners
      .command('show')
      .description('one runner: its details, the tasks it runs now and the ones it finished last')
      .argument('<runner>', 'its id or its name'),
  )
    .option('--recent <n>', 'how many finished tasks to list (0–100)', '20')
    .action((which: string, flags: ConnectionFlags & { json?: boolean; recent: string }) =>
      guard(async () => {
        const recent = Number(flags.recent);
        if (!Number.isInteger(recent) || recent < 0 || recent > RUNNER_RECENT_TASKS_MAX)
          throw new CliError(`--recent must be 0–${RUNNER_RECENT_TASKS_MAX}, got '${flags.recent}'`);
        const client = connect(flags);
        const id = await resolveRunner(client, which);
        const detail = await client.getRunner(id, { recent });
        if (flags.json) return printJson(out, detail);
        printRunner(out, detail);
      }, flags.json),
    );
  for (const [verb, what] of [
    ['remove', 'remove a runner; its token stops working at once'],
    ['disable', 'stop offering tasks to a runner'],
    ['enable', 'offer tasks to a disabled runner again'],
  ] as const) {
    conn(runners.command(verb).description(what).argument('<runner>', 'its id or its name')).action(
      (which: string, flags: ConnectionFlags & { json?: boolean }) =>
        guard(async () => {
          const client = connect(flags);
          const id = await resolveRunner(client, which);
          if (verb === 'remove') await client.removeRunner(id);
          else await client.setRunnerDisabled(id, verb === 'disable');
          if (flags.json)
            return printJson(out, { id, [verb === 'remove' ? 'removed' : 'disabled']: verb !== 'enable' });
          out.write(`runner ${id}: ${verb}d\n`);
        }, flags.json),
    );
  }
}

function printRunner(out: Out, { runner: r, current, recent }: RunnerDetail): void {
  const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;
  const rows: Array<[string, string]> = [
    ['status', `${r.status}, ${r.activeTasks} of ${r.capacity} task slot(s) in use`],
    ['labels', r.labels.length > 0 ? r.labels.join(', ') : '—'],
    ['version', r.version],
    ...(r.ephemeral === true
      ? [['ephemeral', 'yes — one task, then removed (a pool slot)'] as [string, string]]
      : []),
    ...(r.report?.limits === true ? [['limits', 'enforces task resource limits'] as [string, string]] : []),
    [
      'isolation',
      r.report === undefined
        ? '—'
        : r.report.isolation === 'host'
          ? 'host — not for untrusted code'
          : `${r.report.isolation}${r.report.networkIsolation === true ? ' (can run network: false tasks)' : ''}`,
    ],
    [
      'free disk',
      r.report === undefined
        ? '—'
        : `${mib(r.report.freeDiskBytes)} (takes no task below ${mib(r.report.minFreeDiskBytes)})`,
    ],
    ...(r.report?.refusing !== undefined ? [['refusing', r.report.refusing] as [string, string]] : []),
    ['last seen', r.lastSeenAt ?? 'never'],
    ['registered', r.createdAt],
  ];
  out.write(`${paint(out, 'bold', `runner ${r.name}`)}  ${r.id}\n`);
  for (const [k, v] of rows) out.write(`  ${k.padEnd(11)} ${v}\n`);
  const line = (t: RunnerTask, when: string) =>
    `  ${paint(out, statusColour(t.status), `${statusSymbol(t.status)} ${t.status.padEnd(11)}`)} ${t.runName.padEnd(20)} ${t.task.padEnd(16)} attempt ${t.attempt}  ${when}  run ${t.runId}\n`;
  out.write(`\ncurrent tasks${current.length === 0 ? ': none' : ''}\n`);
  for (const t of current)
    out.write(line(t, t.startedAt ? `started ${t.startedAt}` : `offered ${t.offeredAt}, not yet confirmed`));
  out.write(`\nrecent tasks${recent.length === 0 ? ': none' : ''}\n`);
  for (const t of recent) {
    const took = t.durationMs === null ? '' : `${formatDuration(t.durationMs)}, `;
    const why =
      t.reason && t.status !== 'succeeded'
        ? ` (${t.reason}${t.exitCode !== null ? ` ${t.exitCode}` : ''})`
        : '';
    out.write(line(t, `${took}finished ${t.finishedAt ?? '—'}${why}`));
  }
}
