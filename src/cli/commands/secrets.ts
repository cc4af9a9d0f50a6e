// `baton secrets set NAME [--value-file F] | list | rm NAME`: values go in, never come out.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson } from '../output.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerSecrets(program: Command, setExit: (code: number) => void): void {
  const secrets = program
    .command('secrets')
    .description('store secrets on the server, referenced as ${{ secrets.NAME }}');
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'admin');
  const guard = guarded(out, setExit);

  conn(
    secrets
      .command('set')
      .description(
        'create or replace a secret; the value comes from --value-file or standard input (never an argument: shells keep history)',
      )
      .argument('<name>'),
  )
    .option('--value-file <file>', 'read the value from this file (a trailing newline is kept)')
    .action((name: string, flags: ConnectionFlags & { json?: boolean; valueFile?: string }) =>
      guard(async () => {
        let value: string;
        if (flags.valueFile) value = readFileSync(flags.valueFile, 'utf8');
        else if (process.stdin.isTTY)
          throw new CliError(
            'pipe the value in (e.g. `printf %s "$VALUE" | baton secrets set NAME`) or pass --value-file',
          );
        else value = (await readStdin()).replace(/\r?\n$/, '');
        const res = await connect(flags).setSecret(name, value);
        if (flags.json) return printJson(out, res);
        out.write(`secret ${name} ${res.result}\n`);
      }, flags.json),
    );

  conn(secrets.command('list').description('secret names and when they changed (never values)')).action(
    (flags: ConnectionFlags & { json?: boolean }) =>
      guard(async () => {
        const res = await connect(flags).listSecrets();
        if (flags.json) return printJson(out, res);
        if (res.secrets.length === 0) return out.write('no secrets\n');
        for (const s of res.secrets) out.write(`${s.name.padEnd(32)} updated ${s.updatedAt}\n`);
      }, flags.json),
  );

  conn(secrets.command('rm').description('delete a secret').argument('<name>')).action(
    (name: string, flags: ConnectionFlags & { json?: boolean }) =>
      guard(async () => {
        await connect(flags).removeSecret(name);
        if (flags.json) return printJson(out, { name, removed: true });
        out.write(`secret ${name} removed\n`);
      }, flags.json),
  );
}
