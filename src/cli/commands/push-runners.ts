// `baton push-runners list | create | rotate-secret | disable | enable | remove`: the Automn-compatible push
// runners this server dispatches to. A secret is never taken from argv: give it in a file (or `-` for stdin),
// or let the server generate one; either way it is printed once and the server keeps only its hash.
import { resolvePushRunner } from '../resolve.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { PushRunnerHost } from '../../client/index.ts';
import { CliError, connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson, type Out } from '../output.ts';

function readSecretFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --secret-file ${path}: ${(err as Error).message}`);
  }
  // One trailing newline (from `echo` or an editor) is not part of the secret.
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw new CliError(`--secret-file ${path} is empty`);
  return secret;
}

function line(r: PushRunnerHost): string {
  const seen = r.lastSeenAt ? `seen ${r.lastSeenAt}` : 'never registered';
  return `${r.id}  ${r.name.padEnd(20)} ${r.status.padEnd(9)} ${(r.endpoint ?? '—').padEnd(32)} ${seen}${r.statusMessage ? `  (${r.statusMessage})` : ''}\n`;
}

function printSecret(out: Out, r: PushRunnerHost, secret: string): void {
  out.write(line(r));
  out.write(`secret (shown once, stored only as a hash — give it to the runner now):\n  ${secret}\n`);
}

export function registerPushRunners(program: Command, setExit: (code: number) => void): void {
  const cmd = program
    .command('push-runners')
    .description('manage push runners (Automn-compatible) that this server sends tasks to');
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'user');
  const guard = guarded(out, setExit);
  type Flags = ConnectionFlags & { json?: boolean };

  conn(cmd.command('list').description('every push runner and whether its heartbeats arrive')).action(
    (flags: Flags) =>
      guard(async () => {
        const res = await connect(flags).listPushRunners();
        if (flags.json) return printJson(out, res);
        if (res.runnerHosts.length === 0)
          return out.write('no push runners; add one with `baton push-runners create --name NAME`\n');
        for (const r of res.runnerHosts) out.write(line(r));
      }, flags.json),
  );

  conn(
    cmd
      .command('create')
      .description('add a push runner; prints its secret once')
      .requiredOption('--name <name>', 'its name (unique)')
      .option('--id <id>', 'its id (default: a generated UUID)')
      .option('--labels <a,b>', "labels a task's runs_on may select it by, besides its name")
      .option(
        '--secret-file <path>',
        'read its secret (12+ characters) from a file, or - for stdin; default: generated',
      ),
  ).action((flags: Flags & { name: string; id?: string; secretFile?: string; labels?: string }) =>
    guard(async () => {
      const secret = readSecretFile(flags.secretFile);
      const res = await connect(flags).createPushRunner({
        name: flags.name,
        ...(flags.id !== undefined ? { id: flags.id } : {}),
        ...(flags.labels !== undefined
          ? {
              labels: flags.labels
                .split(',')
                .map((l) => l.trim())
                .filter(Boolean),
            }
          : {}),
        ...(secret !== undefined ? { secret } : {}),
      });
      if (flags.json) return printJson(out, res);
      printSecret(out, res.runnerHost, res.secret);
    }, flags.json),
  );

  conn(
    cmd
      .command('rotate-secret')
      .description('give a push runner a new secret; it must register again with it')
      .argument('<runner>', 'its id or its name')
      .option('--secret-file <path>', 'read the new secret from a file, or - for stdin; default: generated'),
  ).action((which: string, flags: Flags & { secretFile?: string }) =>
    guard(async () => {
      const client = connect(flags);
      const id = await resolvePushRunner(client, which);
      const res = await client.rotatePushRunnerSecret(id, readSecretFile(flags.secretFile));
      if (flags.json) return printJson(out, res);
      printSecret(out, res.runnerHost, res.secret);
    }, flags.json),
  );

  conn(
    cmd
      .command('disable')
      .description('send no task to a push runner and refuse its heartbeats')
      .argument('<runner>', 'its id or its name')
      .option('--reason <text>', 'shown as its status message'),
  ).action((which: string, flags: Flags & { reason?: string }) =>
    guard(async () => {
      const client = connect(flags);
      const res = await client.setPushRunnerDisabled(
        await resolvePushRunner(client, which),
        true,
        flags.reason,
      );
      if (flags.json) return printJson(out, res);
      out.write(line(res.runnerHost));
    }, flags.json),
  );

  conn(
    cmd
      .command('enable')
      .description('accept a disabled push runner again')
      .argument('<runner>', 'its id or its name'),
  ).action((which: string, flags: Flags) =>
    guard(async () => {
      const client = connect(flags);
      const res = await client.setPushRunnerDisabled(await resolvePushRunner(client, which), false);
      if (flags.json) return printJson(out, res);
      out.write(line(res.runnerHost));
    }, flags.json),
  );

  conn(
    cmd.command('remove').description('delete a push runner').argument('<runner>', 'its id or its name'),
  ).action((which: string, flags: Flags) =>
    guard(async () => {
      const client = connect(flags);
      const id = await resolvePushRunner(client, which);
      await client.removePushRunner(id);
      if (flags.json) return printJson(out, { id, removed: true });
      out.write(`push runner ${id}: removed\n`);
    }, flags.json),
  );
}
