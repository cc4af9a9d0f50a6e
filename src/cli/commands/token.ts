// `baton token create | list | revoke`: user and runner-registration tokens.
import { resolveToken } from '../resolve.ts';
import type { Command } from 'commander';
import { CliError, connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson } from '../output.ts';

function parseScope(value: string): 'admin' | 'submit' | 'read' {
  if (value === 'admin' || value === 'submit' || value === 'read') return value;
  throw new CliError(`--scope must be admin, submit or read; got '${value}'`);
}

export function registerToken(program: Command, setExit: (code: number) => void): void {
  const token = program.command('token').description('create, list and revoke tokens');
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'admin');
  const guard = guarded(out, setExit);

  conn(
    token
      .command('create')
      .description('create a user token, or with --registration a runner registration token; printed once'),
  )
    .option('--registration', 'a runner registration token')
    .option('--name <name>', 'a note saying what it is for')
    .option('--expires-in <seconds>', 'expire after this many seconds')
    .option('--single-use', 'registration token: valid for one runner only')
    .option('--scope <scope>', 'user token: admin (everything), submit (runs), or read (look only)', 'admin')
    .action(
      (
        flags: ConnectionFlags & {
          json?: boolean;
          registration?: boolean;
          name?: string;
          expiresIn?: string;
          singleUse?: boolean;
          scope: string;
        },
      ) =>
        guard(async () => {
          const expires = flags.expiresIn === undefined ? undefined : Number(flags.expiresIn);
          if (expires !== undefined && (!Number.isInteger(expires) || expires < 1))
            throw new CliError(`--expires-in must be a positive number of seconds, got '${flags.expiresIn}'`);
          const created = await connect(flags).createToken({
            kind: flags.registration ? 'registration' : 'user',
            ...(flags.name ? { name: flags.name } : {}),
            ...(expires ? { expiresInSeconds: expires } : {}),
            ...(flags.singleUse ? { singleUse: true } : {}),
            ...(flags.registration ? {} : { scope: parseScope(flags.scope) }),
          });
          if (flags.json) return printJson(out, created);
          out.write(`${created.token}\n`);
          out.err(
            `${created.kind} token ${created.id} created${created.expiresAt ? `, expires ${created.expiresAt}` : ''}; it is shown only now\n`,
          );
        }, flags.json),
    );

  conn(token.command('list').description('tokens (never their values)')).action(
    (flags: ConnectionFlags & { json?: boolean }) =>
      guard(async () => {
        const res = await connect(flags).listTokens();
        if (flags.json) return printJson(out, res);
        for (const t of res.tokens) {
          const state = t.revokedAt ? 'revoked' : t.usedAt && t.singleUse ? 'used' : 'active';
          out.write(
            `${String(t.id)}  ${String(t.kind).padEnd(12)} ${state.padEnd(8)} ${String(t.name ?? '')}\n`,
          );
        }
      }, flags.json),
  );

  conn(
    token
      .command('revoke')
      .description('revoke a token by id or name; effective at once, its open streams (follows) end too')
      .argument('<token>', 'its id or its name'),
  ).action((which: string, flags: ConnectionFlags & { json?: boolean }) =>
    guard(async () => {
      const client = connect(flags);
      const id = await resolveToken(client, which);
      await client.revokeToken(id);
      if (flags.json) return printJson(out, { id, revoked: true });
      out.write(`token ${id} revoked\n`);
    }, flags.json),
  );
}
