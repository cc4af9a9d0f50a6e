// The `baton` command line: one file per command under commands/, wired here.
import { Command, CommanderError, Help, type Option } from 'commander';
import { registerCompletion } from './commands/completion.ts';
import { CliError, EXIT } from './common.ts';
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
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every command registered below: no `(default: {})` for a flag that is empty unless given.
    .configureHelp({ optionDescription: describeOption })
    .addHelpText(
      'after',
      `
Exit codes (every command):
  ${EXIT.ok}  it worked (a run: it succeeded)
  ${EXIT.failed}  the thing failed or was not found (a run failed or was cancelled, a runner or run does not exist,
     the server refused)
  ${EXIT.usage}  a usage mistake or invalid input (an unknown flag, a bad value, an invalid workflow)

Shell completion: baton completion bash|zsh|fish (see baton completion --help).`,
    );
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
  registerCompletion(program, setExit);
  try {
    // A private CA for HTTPS servers, for every command (runners can also set ca_file in their config).
    if (process.env.BATON_CA_FILE) trustCaFile(process.env.BATON_CA_FILE);
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    // Thrown by a flag's own parser (`--input version`): the sentence, never a stack trace.
    if (err instanceof CliError) {
      process.stderr.write(`baton: ${err.message}\n(run with --help for usage)\n`);
      return err.exitCode;
    }
    throw err;
  }
  return exitCode;
}

const defaultHelp = new Help();

/** Commander's description, without a default that says nothing (`{}`, `[]`, `""`), strings unquoted. */
function describeOption(option: Option): string {
  const value: unknown = option.defaultValue;
  if (option.defaultValueDescription !== undefined) return defaultHelp.optionDescription(option);
  const empty =
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  if (!empty && typeof value !== 'string') return defaultHelp.optionDescription(option);
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option);
  if (empty) shown.defaultValue = undefined;
  else shown.defaultValueDescription = value as string;
  return defaultHelp.optionDescription(shown);
}

// `baton … | head`: the reader went away. Stop quietly, as other Unix tools do, instead of an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

const code = await main(process.argv);
process.exitCode = code;
