// `baton run WORKFLOW`: an embedded server (SQLite in a temp dir) and a local runner in this process, talking
// over real HTTP on loopback — the same path as production — with live progress and a summary. The server's
// `local` dispatcher owns the runner's lifecycle (docs/dispatchers.md): this command only says how to build it.
import { mkdtempSync, rmSync } from 'node:fs';
import { DEFAULT_CANCEL_GRACE_MS, findDrivers, type Driver } from '../../engine/index.ts';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createClient } from '../../client/index.ts';
import { generateKeyPair } from '../../protocol/sealed.ts';
import type { Agent, RunnerLogger } from '../../runner/index.ts';
import type { EmbeddedExecutor } from '../../server/index.ts';
import { gitTopLevel, snapshotCheckout } from '../checkout.ts';
import { readDotenv } from '../dotenv.ts';
import { SECRET_NAME } from '../../workflow/static-values.ts';
import { formatWarnings, collectInput, readWorkflowFile, reportError } from '../common.ts';
import { addGitHubOptions, githubSubmit, type GitHubFlags, type GitHubSubmit } from '../github-context.ts';
import { exitCodeFor, followRun, printSummary } from '../follow.ts';
import { watchPending } from '../pending-hints.ts';
import { downloadArtifacts } from '../artifacts.ts';
import { createOut, printJson } from '../output.ts';
import { RUN_SHAPES } from '../../protocol/status.ts';
import { ANY_LABEL } from '../../protocol/labels.ts';
import { batonVersion } from '../version.ts';

interface RunFlags extends GitHubFlags {
  input: Record<string, string>;
  json?: boolean;
  shape?: string;
  dataDir?: string;
  keepData?: string;
  artifacts?: string;
  labels?: string;
  parallel: string;
  verbose?: boolean;
  drivers?: string;
  secret: string[];
  secretFile?: string;
  workspace?: string;
  job: string[];
}

export function registerRun(program: Command, setExit: (code: number) => void): void {
  const command = program
    .command('run')
    .description(
      'run a workflow here and now: embedded server and runner, live progress, exit 0 when it succeeds',
    )
    .argument('<workflow>', 'workflow file (YAML or JSON)')
    .option('-i, --input <name=value>', 'a workflow input (repeatable)', collectInput, {})
    .option('--json', 'print the run result as JSON instead of progress')
    .option('--shape <shape>', 'with --json: run (default), or task-group (the Harness task-group result)')
    .option(
      '--keep-data <dir>',
      "keep the embedded server's data (database, logs, master key) here for inspection, instead of a temporary directory removed at the end",
    )
    .option('--data-dir <dir>', 'the same as --keep-data')
    .option(
      '--artifacts <dir>',
      "where the run's artifacts are saved (default: ./baton-artifacts/<run-id>/, when it has any)",
    )
    .option(
      '--labels <a,b>',
      'labels of the local runner (default: it takes every label, so runs-on: ubuntu-latest runs here)',
    )
    .option('--parallel <n>', 'tasks the local runner runs at once', '2')
    .option(
      '--workspace <checkout|empty>',
      "what each task's workspace starts with: a copy of the git checkout this runs in (the default for a GitHub workflow run inside one), or nothing (the default otherwise)",
    )
    .option(
      '--job <id>',
      'run only this job and the jobs it needs (a matrix job by its id: every combination); repeatable',
      (id: string, all: string[]) => [...all, id],
      [] as string[],
    )
    .option('--verbose', "print the embedded runner's own log")
    .option(
      '--drivers <dir>',
      'directory of CGI programs for custom task types, given to the local runner (docs/drivers.md)',
    )
    .option(
      '--secret <NAME[=value]>',
      "a secret for the run's ${{ secrets.NAME }} and `type: secret` tasks: NAME alone takes its value from the environment variable NAME (safer: shells keep history), NAME=value gives it; repeatable",
      (name: string, all: string[]) => [...all, name],
      [] as string[],
    )
    .option(
      '--secret-file <file>',
      'secrets from a dotenv file (NAME=value lines, as .secrets for act); --secret wins over it',
    );
  addGitHubOptions(command);
  command.action(async (file: string, flags: RunFlags) => setExit(await runCommand(file, flags)));
}

async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const out = createOut();
  const wf = readWorkflowFileOrReport(file, out);
  if (typeof wf === 'number') return wf;
  if (
    flags.shape !== undefined &&
    (flags.json !== true || !(RUN_SHAPES as readonly string[]).includes(flags.shape))
  ) {
    out.err(`baton: --shape needs --json and one of ${RUN_SHAPES.join(', ')}; got '${flags.shape}'\n`);
    return 2;
  }
  const shape = flags.shape ?? 'run';
  let github: GitHubSubmit;
  try {
    github = await githubSubmit({ text: wf.text, path: file }, flags, flags.input);
  } catch (err) {
    return reportError(err, out);
  }
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    out.err(`baton: --parallel must be an integer from 1 to 64, got '${flags.parallel}'\n`);
    return 2;
  }
  let drivers: Map<string, Driver> | undefined;
  try {
    drivers = flags.drivers === undefined ? undefined : findDrivers(flags.drivers).drivers;
  } catch (error) {
    out.err(`baton: cannot read the drivers directory ${flags.drivers}: ${(error as Error).message}\n`);
    return 2;
  }
  const secrets = readSecretFlags(flags, out);
  if (typeof secrets === 'number') return secrets;
  if (flags.workspace !== undefined && flags.workspace !== 'checkout' && flags.workspace !== 'empty') {
    out.err(`baton: --workspace must be checkout or empty, got '${flags.workspace}'\n`);
    return 2;
  }
  const top = gitTopLevel(process.cwd());
  // Loaded on use, like the server below: a runner's process never loads the YAML reader.
  const { compileWorkflow } = await import('../../workflow/index.ts');
  let actions;
  try {
    actions = (await import('../action-files.ts')).readActionFiles(file, wf.text);
  } catch (err) {
    return reportError(err, out, { file, json: flags.json });
  }
  const compiled = compileWorkflow(wf.text, {
    fileName: wf.fileName,
    ...(actions === undefined ? {} : { actions }),
  });
  // Lint (valid, but probably a mistake), as `baton validate` prints it; the run goes on.
  if (compiled.warnings !== undefined) out.err(formatWarnings(file, compiled.warnings));
  const workspace =
    flags.workspace ??
    (top !== undefined && compiled.ok && compiled.plan.dialect === 'github' ? 'checkout' : 'empty');
  if (workspace === 'checkout' && top === undefined) {
    out.err(`baton: --workspace checkout: ${process.cwd()} is not inside a git checkout\n`);
    return 2;
  }
  if (flags.keepData !== undefined && flags.dataDir !== undefined && flags.keepData !== flags.dataDir) {
    out.err('baton: --keep-data and --data-dir name the same thing; give one\n');
    return 2;
  }
  const keep = flags.keepData ?? flags.dataDir;
  const tempDir = keep ? undefined : mkdtempSync(join(tmpdir(), 'baton-run-'));
  const dataDir = resolve(keep ?? tempDir!);
  // The temp dir holds the embedded server's master key: removed however this process ends but SIGKILL (an
  // uncaught error or process.exit included: 'exit' handlers run synchronously then).
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('exit', removeTemp);
  let seedWorkspace: string | undefined;
  if (workspace === 'checkout') {
    // A fresh snapshot per run, also in a kept --data-dir: the checkout may have changed since the last run.
    const snapshot = join(dataDir, 'checkout');
    rmSync(snapshot, { recursive: true, force: true });
    try {
      seedWorkspace = snapshotCheckout(top!, snapshot).snapshot;
    } catch (err) {
      removeTemp();
      return reportError(err, out, { file, json: flags.json });
    }
  }
  // Loaded on use: the other commands' processes (runners above all) stay free of the server's code.
  const { buildServerConfig, EMBEDDED_DISPATCHERS, generateToken, startServer } =
    await import('../../server/index.ts');
  const { Agent, loadEnvFile, withoutBatonSettings } = await import('../../runner/index.ts');
  const adminToken = generateToken('user');
  const config = buildServerConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    adminToken,
    logLevel: 'warn',
    dispatchers: EMBEDDED_DISPATCHERS,
    env: {},
  });
  const log: RunnerLogger = {
    info: (m) => flags.verbose && out.err(`runner: ${m}\n`),
    warn: (m) => flags.verbose && out.err(`runner: ${m}\n`),
    error: (m) => out.err(`runner: ${m}\n`),
  };
  // Unless restricted, the local runner carries every label: a workflow written for hosted runners runs here.
  const labels =
    flags.labels === undefined
      ? [ANY_LABEL]
      : flags.labels
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  let agent: Agent | undefined;
  // The embedded runner: the `local` dispatcher registers it with a one-use token once the server listens, and
  // stops it (and waits for it) when the server closes.
  const embedded: EmbeddedExecutor = {
    async launch({ url, registrationToken }) {
      const keys = await generateKeyPair();
      const reg = await createClient({ baseUrl: url, userAgent: `baton-runner/${batonVersion()}` }).register(
        registrationToken,
        { publicKey: keys.publicKey, name: 'local', labels, capacity: parallel, version: batonVersion() },
      );
      const a = new Agent({
        client: createClient({ baseUrl: url, token: reg.token, userAgent: `baton-runner/${batonVersion()}` }),
        name: 'local',
        maxParallelTasks: parallel,
        workDir: join(dataDir, '_work'),
        ...(seedWorkspace === undefined ? {} : { seedWorkspace }),
        stateDir: join(dataDir, 'runner-state'),
        keys,
        // A --secret's variable stays out of the steps' environment: it reaches them only as the secret, masked.
        baseEnv: Object.fromEntries(
          Object.entries({ ...withoutBatonSettings(process.env), ...loadEnvFile(resolve('.env')) }).filter(
            ([name]) => !(name in secrets),
          ),
        ),
        // The embedded server's database and master key live in the data dir: steps must not see them.
        hide: [dataDir],
        ...(drivers === undefined ? {} : { drivers }),
        log,
      });
      agent = a;
      return { stop: () => a.stop(), done: a.run() };
    },
  };
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config, {
      logger: flags.verbose ? { level: 'info' } : false,
      dispatch: { embedded },
    });
  } catch (err) {
    removeTemp();
    return reportError(err, out, { file, json: flags.json });
  }
  const client = createClient({
    baseUrl: server.url,
    token: adminToken,
    userAgent: `baton-run/${batonVersion()}`,
  });
  const interrupt = new AbortController();
  let runId: string | undefined;
  let neverRuns: { task: string; why: string } | undefined;
  let interrupts = 0;
  // First Ctrl-C: the local runner sends SIGTERM to the running steps at once (no wait for the server to relay
  // the cancel), and the run is cancelled. Second: SIGKILL to the steps, and stop.
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1 && runId) {
      out.err(
        `\nbaton: cancelling the run: SIGTERM to the running steps, which have ${DEFAULT_CANCEL_GRACE_MS / 1000} s to exit, or their task's cancel_grace (Ctrl-C again to kill them now)\n`,
      );
      agent?.cancelRunning('cancelled with Ctrl-C');
      void client.cancelRun(runId).catch(() => interrupt.abort());
    } else {
      const killed = agent?.killRunning() ?? 0;
      if (killed > 0) out.err(`baton: killed ${killed} running step(s)\n`);
      agent?.stop();
      agent?.stop();
      interrupt.abort();
    }
  };
  // Killed by SIGTERM or a closed terminal: steps are killed and the temp dir removed, as on a second Ctrl-C.
  const onTerminate = () => {
    interrupts = Math.max(interrupts, 1);
    onSigint();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onTerminate);
  process.on('SIGHUP', onTerminate);
  try {
    // The server checks a custom type against the runners' reported drivers at submit.
    if (drivers !== undefined) await agent?.firstReport;
    // Into the embedded server's store (encrypted under its master key), as `baton secrets set` would.
    for (const [name, value] of Object.entries(secrets)) await client.setSecret(name, value);
    const submitted = await client.submitRun(wf.text, {
      ...github,
      fileName: wf.fileName,
      ...(flags.job.length === 0 ? {} : { jobs: flags.job }),
      // Loaded on use: a runner's process stays free of YAML code.
      actions,
    });
    runId = submitted.id;
    const id = runId;
    // A task the local runner can never take would wait forever: no other runner comes to `baton run`.
    const giveUp = (task: string, why: string) => {
      neverRuns = { task, why };
      out.err(`baton: task '${task}' can never run here: ${why}; cancelling the run\n`);
      void client.cancelRun(id).catch(() => interrupt.abort());
    };
    let result;
    if (flags.json) {
      const hints = watchPending(client, runId, out, { onlyRunner: { name: 'local', onNever: giveUp } });
      for (const t of Object.values(submitted.results)) hints.seen(t.name, t.status);
      try {
        for await (const m of client.runStream(runId, { signal: interrupt.signal }))
          if (m.kind === 'event' && m.event.type === 'task' && m.event.task)
            hints.seen(m.event.task, m.event.status);
      } finally {
        hints.stop();
      }
      result = await client.getRun(runId);
      printJson(out, shape === 'task-group' ? await client.getTaskGroupResult(runId) : result);
    } else {
      out.write(`run ${runId} (${submitted.name}): ${Object.keys(submitted.results).length} task(s)\n`);
      result = await followRun(client, runId, out, {
        signal: interrupt.signal,
        pending: { onlyRunner: { name: 'local', onNever: giveUp } },
      });
      printSummary(result, out);
    }
    const saved = await downloadArtifacts(
      client,
      runId,
      resolve(flags.artifacts ?? join('baton-artifacts', runId)),
    );
    if (saved.length > 0) out.err(`artifacts: ${saved.length} saved in ${dirname(saved[0]!)}\n`);
    if (keep !== undefined)
      out.err(`data kept in ${dataDir} (inspect it with: baton server --data-dir ${keep})\n`);
    return neverRuns === undefined ? exitCodeFor(result) : 1;
  } catch (err) {
    return reportError(err, out, { file, json: flags.json });
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onTerminate);
    process.off('SIGHUP', onTerminate);
    // Stops the embedded runner (through its dispatcher) and then the server.
    await server.close();
    removeTemp();
    process.off('exit', removeTemp);
  }
}

function readWorkflowFileOrReport(file: string, out: ReturnType<typeof createOut>) {
  try {
    return readWorkflowFile(file);
  } catch (err) {
    return reportError(err, out);
  }
}

/** --secret-file, then each --secret (NAME from the environment, or NAME=value); a usage error is printed. */
function readSecretFlags(
  flags: RunFlags,
  out: ReturnType<typeof createOut>,
): Record<string, string> | number {
  const secrets: Record<string, string> = {};
  if (flags.secretFile !== undefined) {
    try {
      Object.assign(secrets, readDotenv(flags.secretFile));
    } catch (error) {
      out.err(`baton: --secret-file ${flags.secretFile}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  for (const given of flags.secret) {
    const eq = given.indexOf('=');
    const name = eq < 0 ? given : given.slice(0, eq);
    if (!SECRET_NAME.test(name)) {
      out.err(
        `baton: --secret ${given.slice(0, 80)}: '${name.slice(0, 80)}' is not a secret name (letters, digits and _, not starting with a digit)\n`,
      );
      return 2;
    }
    const value = eq < 0 ? process.env[name] : given.slice(eq + 1);
    if (value === undefined || value === '') {
      out.err(
        eq < 0
          ? `baton: --secret ${name}: the environment variable ${name} is not set; export it first, or give --secret ${name}=value\n`
          : `baton: --secret ${name}=: the value is empty\n`,
      );
      return 2;
    }
    secrets[name] = value;
  }
  return secrets;
}
