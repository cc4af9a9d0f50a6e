// `baton webhooks create URL --events … | list | remove ID | deliveries ID` and a runner's own webhook
// (`set-runner RUNNER URL`, `clear-runner RUNNER`, `deliveries --runner RUNNER`). Admin only: the server sends
// requests wherever a webhook points.
import { resolveRunner } from '../resolve.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
// Types only: protocol/webhooks.ts builds TypeBox schemas, which every CLI process would pay for.
import type { WebhookDeliveriesResponse } from '../../protocol/webhooks.ts';
import { CliError, connect, guarded, withConnection, type ConnectionFlags } from '../common.ts';
import { createOut, printJson, type Out } from '../output.ts';

type Flags = ConnectionFlags & { json?: boolean };

/** A secret from a file: its first line, trimmed (editors add a newline); an empty one is refused. */
function readSecretFile(path: string): string {
  const secret = readFileSync(path, 'utf8').split(/\r?\n/)[0]?.trim() ?? '';
  if (!secret) throw new CliError(`--secret-file ${path} is empty`);
  return secret;
}

function printDeliveries(out: Out, res: WebhookDeliveriesResponse): void {
  if (res.deliveries.length === 0) return out.write('no deliveries yet\n');
  for (const d of res.deliveries) {
    const next = d.nextAttemptAt ? `  next attempt ${d.nextAttemptAt}` : '';
    out.write(`${d.id}  ${d.event.padEnd(16)} ${d.status.padEnd(9)} ${d.createdAt}${next}\n`);
    for (const a of d.attempts)
      out.write(
        `    #${a.attempt} ${a.at}  ${a.statusCode ?? '—'}  ${a.durationMs} ms${a.error ? `  ${a.error}` : ''}\n`,
      );
  }
}

export function registerWebhooks(program: Command, setExit: (code: number) => void): void {
  const webhooks = program
    .command('webhooks')
    .description('signed HTTP notifications of run and task events (admin)');
  const out = createOut();
  const conn = (c: Command) => withConnection(c, 'admin');
  const guard = guarded(out, setExit);

  conn(
    webhooks
      .command('create')
      .description(
        'POST events to URL, signed with X-Baton-Signature: sha256=<HMAC-SHA256 of the body>; the secret is shown once',
      )
      .argument('<url>', 'an http or https URL'),
  )
    .requiredOption(
      '--events <list>',
      'comma-separated: run.<status>, run.finished, task.<status>, task.finished (e.g. run.finished,task.failed)',
    )
    .option('--secret-file <file>', 'sign with the secret in this file instead of one the server makes')
    .action((url: string, flags: Flags & { events: string; secretFile?: string }) =>
      guard(async () => {
        const events = flags.events
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean);
        if (events.length === 0) throw new CliError('--events names no event');
        const res = await connect(flags).createWebhook({
          url,
          events,
          ...(flags.secretFile ? { secret: readSecretFile(flags.secretFile) } : {}),
        });
        if (flags.json) return printJson(out, res);
        out.write(`webhook ${res.webhook.id} created for ${res.webhook.events.join(', ')}\n`);
        if (!flags.secretFile)
          out.write(`signing secret (shown once, keep it for the receiver):\n${res.secret}\n`);
      }, flags.json),
    );

  conn(webhooks.command('list').description('server webhooks and their events (never secrets)')).action(
    (flags: Flags) =>
      guard(async () => {
        const res = await connect(flags).listWebhooks();
        if (flags.json) return printJson(out, res);
        if (res.webhooks.length === 0) return out.write('no webhooks\n');
        for (const w of res.webhooks) out.write(`${w.id}  ${w.url}  [${w.events.join(', ')}]\n`);
      }, flags.json),
  );

  conn(webhooks.command('remove').description('remove a webhook and its deliveries').argument('<id>')).action(
    (id: string, flags: Flags) =>
      guard(async () => {
        await connect(flags).removeWebhook(id);
        if (flags.json) return printJson(out, { id, removed: true });
        out.write(`webhook ${id} removed\n`);
      }, flags.json),
  );

  conn(
    webhooks
      .command('deliveries')
      .description(
        "a webhook's deliveries, newest first, each attempt with its status code, duration and error",
      )
      .argument('[id]', 'the webhook (or give --runner)'),
  )
    .option('--runner <id>', "the deliveries of this runner's own webhook")
    .option('--limit <n>', 'how many (1–500)', '50')
    .action((id: string | undefined, flags: Flags & { runner?: string; limit: string }) =>
      guard(async () => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new CliError(`--limit must be 1–500, got '${flags.limit}'`);
        if ((id === undefined) === (flags.runner === undefined))
          throw new CliError('give a webhook id or --runner RUNNER_ID (one of them)');
        const client = connect(flags);
        const res = flags.runner
          ? await client.runnerWebhookDeliveries(flags.runner, { limit })
          : await client.webhookDeliveries(id!, { limit });
        if (flags.json) return printJson(out, res);
        printDeliveries(out, res);
      }, flags.json),
    );

  conn(
    webhooks
      .command('set-runner')
      .description(
        "set a runner's webhook: POSTed {action: start|finish, runId, taskId, runnerId, status?, at} for its tasks",
      )
      .argument('<runner>', "the runner's id or name")
      .argument('<url>', 'an http or https URL'),
  )
    .option('--secret-file <file>', 'sign with the secret in this file instead of one the server makes')
    .action((runner: string, url: string, flags: Flags & { secretFile?: string }) =>
      guard(async () => {
        const client = connect(flags);
        const res = await client.setRunnerWebhook(await resolveRunner(client, runner), {
          url,
          ...(flags.secretFile ? { secret: readSecretFile(flags.secretFile) } : {}),
        });
        if (flags.json) return printJson(out, res);
        out.write(`runner ${runner} webhook set to ${url}\n`);
        if (!flags.secretFile && res.secret)
          out.write(`signing secret (shown once, keep it for the receiver):\n${res.secret}\n`);
      }, flags.json),
    );

  conn(
    webhooks
      .command('clear-runner')
      .description("remove a runner's webhook")
      .argument('<runner>', "the runner's id or name"),
  ).action((runner: string, flags: Flags) =>
    guard(async () => {
      const client = connect(flags);
      const res = await client.setRunnerWebhook(await resolveRunner(client, runner), { url: null });
      if (flags.json) return printJson(out, res);
      out.write(`runner ${runner} webhook removed\n`);
    }, flags.json),
  );
}
