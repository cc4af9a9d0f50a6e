// `baton runner setup`: the interactive way to configure (and register) a runner, as Semaphore/Forge users
// know it. It asks for the server, whether a runner token exists already (then that token or a token_file
// holding it, checked against the server), else a registration token; then labels, slots, isolation and work
// dir. Nothing is written before the last answer, and a cancel (Ctrl-C, Esc) leaves nothing behind.
// Without a terminal it refuses and names the flags of `baton runner register` instead.
import { secretsInWorkTreeWarning } from '../git-tree.ts';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as p from '@clack/prompts';
import type { Command } from 'commander';
import { ApiError, createClient } from '../../client/index.ts';
import { STATE_ROOT } from '../../runner/identity.ts';
import {
  DEFAULT_CONFIG_PATH,
  ISOLATIONS,
  tokenFileProblem,
  writeRunnerConfig,
  type Isolation,
  type RunnerConfigFile,
} from '../../runner/index.ts';
import { CliError, EXIT, reportError } from '../common.ts';
import { createOut } from '../output.ts';
import { batonVersion } from '../version.ts';
import {
  checkRegistrationToken,
  parseLabels,
  parseMaxParallel,
  registerAndWrite,
} from './runner-register.ts';

class Cancelled extends Error {}

/** The answer, or a Cancelled error when the user pressed Ctrl-C or Esc. */
function answer<T>(value: T): Exclude<T, symbol> {
  if (p.isCancel(value)) throw new Cancelled();
  return value as Exclude<T, symbol>;
}

function urlProblem(value: string | undefined): string | undefined {
  try {
    const u = new URL(value ?? '');
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'use an http:// or https:// URL';
  } catch {
    return 'enter the server URL, e.g. https://baton.example.com or http://127.0.0.1:8480';
  }
}

const NOT_A_TERMINAL = `baton runner setup asks its questions in a terminal, and stdin is not one. Without a terminal, use:
  echo "$REGISTRATION_TOKEN" | baton runner register --stdin-registration-token --server URL --config FILE \\
      [--labels a,b] [--max-parallel-tasks N] [--work-dir DIR] [--token-file FILE]
(or --registration-token-file FILE instead of stdin), then set "isolation" in the config file if needed`;

export function registerRunnerSetup(runner: Command, setExit: (code: number) => void): void {
  runner
    .command('setup')
    .description(
      'interactive: ask for the server, the token, labels, slots, isolation and work dir; write the config (mode 0600) and register',
    )
    .option('--config <file>', 'config file to write', DEFAULT_CONFIG_PATH)
    .action(async (flags: { config: string }) => {
      const out = createOut();
      try {
        if (!process.stdin.isTTY || !process.stdout.isTTY) throw new CliError(NOT_A_TERMINAL, EXIT.usage);
        await setup(flags.config);
        setExit(0);
      } catch (err) {
        if (err instanceof Cancelled) {
          p.cancel(`setup cancelled; nothing was written to ${flags.config} and nothing was registered`);
          setExit(EXIT.failed);
          return;
        }
        setExit(reportError(err, out));
      }
    });
}

async function setup(config: string): Promise<void> {
  p.intro(`baton runner setup ${batonVersion()}`);
  if (existsSync(config)) {
    const overwrite = answer(
      await p.confirm({ message: `${config} exists. Replace it with a new setup?`, initialValue: false }),
    );
    if (!overwrite) throw new Cancelled();
  }
  const server = answer(
    await p.text({
      message: 'Server URL',
      placeholder: 'http://127.0.0.1:8480',
      initialValue: process.env.BATON_SERVER ?? '',
      validate: urlProblem,
    }),
  ).trim();
  const haveToken = answer(
    await p.confirm({ message: 'Do you already have a runner token?', initialValue: false }),
  );
  let token: { kind: 'token'; value: string } | { kind: 'file'; path: string; value: string } | undefined;
  let registrationToken: string | undefined;
  const configDir = dirname(resolve(config));
  if (haveToken) {
    const how = answer(
      await p.select({
        message: 'Where is it?',
        options: [
          { value: 'paste', label: 'I will paste it here (kept in the config file)' },
          { value: 'file', label: 'In a file (the config names it as token_file)' },
        ],
      }),
    );
    if (how === 'paste') {
      const value = answer(
        await p.password({
          message: 'Runner token',
          validate: (v) => ((v ?? '').trim() === '' ? 'the token is empty' : undefined),
        }),
      ).trim();
      token = { kind: 'token', value };
    } else {
      const path = answer(
        await p.text({
          message: 'Path of the token file',
          validate: (v) => {
            const given = (v ?? '').trim();
            if (given === '') return 'enter a path';
            return tokenFileProblem(isAbsolute(given) ? given : join(configDir, given));
          },
        }),
      ).trim();
      const value = readFileSync(isAbsolute(path) ? path : join(configDir, path), 'utf8').trim();
      if (value === '') throw new CliError(`token file ${path} is empty`);
      token = { kind: 'file', path, value };
    }
  } else {
    registrationToken = checkRegistrationToken(
      answer(
        await p.password({
          message: 'Registration token (from the server operator, or the server started with one)',
          validate: (v) => ((v ?? '').trim() === '' ? 'the registration token is empty' : undefined),
        }),
      ),
      'the prompt',
    );
  }
  const name = answer(
    await p.text({ message: 'Runner name', initialValue: hostname().replace(/[^A-Za-z0-9_.@-]/g, '-') }),
  ).trim();
  const labels = parseLabels(
    answer(
      await p.text({
        message: 'Labels (comma-separated; workflows pick runners with runs_on)',
        placeholder: 'linux,docker',
        defaultValue: '',
        validate: (v) => {
          try {
            parseLabels(v ?? '', 'labels');
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        },
      }),
    ),
    'labels',
  );
  const max = parseMaxParallel(
    answer(
      await p.text({
        message: 'max_parallel_tasks (tasks run at once)',
        initialValue: '1',
        validate: (v) => {
          try {
            parseMaxParallel(v, 'max_parallel_tasks');
            return undefined;
          } catch (err) {
            return (err as Error).message;
          }
        },
      }),
    ),
    'max_parallel_tasks',
  );
  const isolation = answer(
    await p.select<Isolation>({
      message: 'Isolation',
      options: ISOLATIONS.map((i) => ({
        value: i,
        label: i,
        hint:
          i === 'host'
            ? 'steps run as this user: your own code only'
            : 'each step in bubblewrap: for untrusted code',
      })),
      initialValue: 'host',
    }),
  );
  const workDir = answer(
    await p.text({ message: 'Work dir (where task dirs are made)', initialValue: '_work' }),
  ).trim();

  if (registrationToken !== undefined) {
    const spin = p.spinner();
    spin.start(`registering with ${server}`);
    try {
      const reg = await registerAndWrite({
        server,
        registrationToken,
        config,
        name,
        labels,
        maxParallelTasks: max,
        workDir: workDir || '_work',
        extra: { isolation },
      });
      spin.stop(`registered runner '${reg.name}' (${reg.runnerId})`);
      if (reg.gitWarning !== undefined) p.log.warn(reg.gitWarning);
    } catch (err) {
      spin.error('registration failed');
      throw err;
    }
  } else if (token !== undefined) {
    // Check the token against the server before writing it: a typo shows now, not at first start.
    let self;
    try {
      self = await createClient({
        baseUrl: server,
        token: token.value,
        userAgent: `baton-runner/${batonVersion()}`,
      }).runnerSelf();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401)
        throw new CliError(`${server} does not know this runner token (${err.message}); nothing was written`);
      throw err;
    }
    const file: RunnerConfigFile = {
      server,
      runner_id: self.runnerId,
      name: self.name,
      state_dir: join(STATE_ROOT, self.runnerId),
      ...(token.kind === 'token' ? { token: token.value } : { token_file: token.path }),
      labels,
      max_parallel_tasks: max,
      work_dir: workDir || '_work',
      isolation,
    };
    writeRunnerConfig(config, file);
    const exposed = secretsInWorkTreeWarning([resolve(config)]);
    if (exposed !== undefined) p.log.warn(exposed);
    if (!self.hasKey)
      p.log.warn(
        'this runner registered no key pair, so the server sends it no secrets; register it with a registration token to get one',
      );
    if (name !== self.name)
      p.log.info(`the server knows this runner as '${self.name}'; the config uses that name`);
  }
  p.outro(
    `config written to ${config} (mode 0600). Start the runner with:\n  baton runner start --config ${config}`,
  );
}
