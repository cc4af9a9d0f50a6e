// `baton cache list [--workflow W] [--json]` and `baton cache clear [--workflow W] [--key K]`: the cached task
// results on the server (admin token).
import type { Command } from 'commander';
import { connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson } from '../output.ts';

export function registerCache(program: Command, setExit: (code: number) => void): void {
  const cache = program
    .command('cache')
    .description("cached task results (a task's `cache: {key?, ttl}`), per workflow and key");
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'admin');
  const guard = guarded(out, setExit);

  conn(cache.command('list').description('live cache entries: workflow, key, output names, size, expiry'))
    .option('--workflow <name>', "only this workflow's entries")
    .action((flags: ConnectionFlags & { json?: boolean; workflow?: string }) =>
      guard(async () => {
        const res = await connect(flags).listCache(
          flags.workflow === undefined ? {} : { workflow: flags.workflow },
        );
        if (flags.json) return printJson(out, res);
        if (res.entries.length === 0) return out.write('no cache entries\n');
        for (const e of res.entries)
          out.write(
            `${e.workflow}  ${e.key}  outputs: ${e.outputNames.join(', ') || '-'}  ${e.sizeBytes} bytes  created ${e.createdAt}  expires ${e.expiresAt}\n`,
          );
      }, flags.json),
    );

  conn(cache.command('clear').description('remove cache entries: all, or those of a workflow and/or key'))
    .option('--workflow <name>', "only this workflow's entries")
    .option('--key <key>', 'only entries with this key')
    .action((flags: ConnectionFlags & { json?: boolean; workflow?: string; key?: string }) =>
      guard(async () => {
        const res = await connect(flags).clearCache({
          ...(flags.workflow === undefined ? {} : { workflow: flags.workflow }),
          ...(flags.key === undefined ? {} : { key: flags.key }),
        });
        if (flags.json) return printJson(out, res);
        out.write(`removed ${res.removed} cache ${res.removed === 1 ? 'entry' : 'entries'}\n`);
      }, flags.json),
    );
}
