// The `baton` command line: one file per command under commands/, wired here.
import { Command, CommanderError } from 'commander';
import { registerRun } from './commands/run.ts';
import { registerServer } from './commands/server.ts';
import { registerRunner } from './commands/runner.ts';
import { registerRunnerPool } from './commands/runner-pool.ts';
import { registerRunnerServe } from './commands/runner-serve.ts';
import { registerSubmit } from './commands/submit.ts';
import { registerRuns } from './commands/runs.ts';
import { registerToken } from './commands/token.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerCache } from './commands/cache.ts';
import { registerWebhooks } from './commands/webhooks.ts';
import { registerRunners } from './commands/runners.ts';
import { registerPushRunners } from './commands/push-runners.ts';
import { registerValidate } from './commands/validate.ts';
import { batonVersion } from './version.ts';
import { trustCaFile } from '../client/index.ts';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command('baton')
    .description(
      'Baton: a self-hosted job-runner platform — a server that queues workflow tasks, runners that execute them anywhere',
    )
    .version(batonVersion())
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerRun(program, setExit);
  registerValidate(program, setExit);
  registerServer(program, setExit);
  registerRunner(program, setExit);
  registerRunnerPool(
    program.commands.find((c) => c.name() === 'runner')!,
    setExit,
  );
  registerRunnerServe(
    program.commands.find((c) => c.name() === 'runner')!,
    setExit,
  );
  registerSubmit(program, setExit);
  registerRuns(program, setExit);
  registerRunners(program, setExit);
  registerPushRunners(program, setExit);
  registerToken(program, setExit);
  registerSecrets(program, setExit);
  registerCache(program, setExit);
  registerWebhooks(program, setExit);
  try {
    // A private CA for HTTPS servers, for every command (runners can also set ca_file in their config).
    if (process.env.BATON_CA_FILE) trustCaFile(process.env.BATON_CA_FILE);
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  return exitCode;
}

const code = await main(process.argv);
process.exitCode = code;
