// `baton runners list | remove ID | disable ID | enable ID`: the fleet as the server sees it.
import type { Command } from 'commander';
import { connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson } from '../output.ts';

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
            'no runners; add one with `baton token create --registration` and `baton runner register`\n',
          );
        for (const r of res.runners) {
          out.write(
            `${r.id}  ${r.name.padEnd(20)} ${r.status.padEnd(9)} ${r.activeTasks}/${r.capacity}  [${r.labels.join(', ')}]  v${r.version}\n`,
          );
        }
      }, flags.json),
  );
  for (const [verb, what] of [
    ['remove', 'remove a runner; its token stops working at once'],
    ['disable', 'stop offering tasks to a runner'],
    ['enable', 'offer tasks to a disabled runner again'],
  ] as const) {
    conn(runners.command(verb).description(what).argument('<id>')).action(
      (id: string, flags: ConnectionFlags & { json?: boolean }) =>
        guard(async () => {
          const client = connect(flags);
          if (verb === 'remove') await client.removeRunner(id);
          else await client.setRunnerDisabled(id, verb === 'disable');
          if (flags.json)
            return printJson(out, { id, [verb === 'remove' ? 'removed' : 'disabled']: verb !== 'enable' });
          out.write(`runner ${id}: ${verb}d\n`);
        }, flags.json),
    );
  }
}
