// `baton run WORKFLOW`: an embedded server (SQLite in a temp dir) and a local runner in this process, talking
// over real HTTP on loopback — the same path as production — with live progress and a summary. The server's
// `local` dispatcher owns the runner's lifecycle (docs/dispatchers.md): this command only says how to build it.
import { mkdtempSync, rmSync } from 'node:fs';
import { findDrivers, type Driver } from '../../engine/index.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createClient } from '../../client/index.ts';
import { generateKeyPair } from '../../protocol/sealed.ts';
import type { Agent, RunnerLogger } from '../../runner/index.ts';
import type { EmbeddedExecutor } from '../../server/index.ts';
import { collectInput, readWorkflowFile, reportError } from '../common.ts';
import { addGitHubOptions, githubSubmit, type GitHubFlags, type GitHubSubmit } from '../github-context.ts';
import { exitCodeFor, followRun, printSummary } from '../follow.ts';
import { createOut, printJson } from '../output.ts';
import { RUN_SHAPES } from '../../protocol/status.ts';
import { batonVersion } from '../version.ts';

interface RunFlags extends GitHubFlags {
  input: Record<string, string>;
  json?: boolean;
  shape?: string;
  dataDir?: string;
  labels?: string;
  parallel: string;
  verbose?: boolean;
  drivers?: string;
  secret: string[];
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
    .option('--data-dir <dir>', 'keep the database here instead of a temporary directory')
    .option('--labels <a,b>', 'labels of the local runner', '')
    .option('--parallel <n>', 'tasks the local runner runs at once', '2')
    .option('--verbose', "print the embedded runner's own log")
    .option(
      '--drivers <dir>',
      'directory of CGI programs for custom task types, given to the local runner (docs/drivers.md)',
    )
    .option(
      '--secret <NAME>',
      "a secret for the run's ${{ secrets.NAME }} and `type: secret` tasks, its value taken from the environment variable NAME (never an argument: shells keep history); repeatable",
      (name: string, all: string[]) => [...all, name],
      [] as string[],
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
  const secrets: Record<string, string> = {};
  for (const name of flags.secret) {
    const value = process.env[name];
    if (value === undefined || value === '') {
      out.err(`baton: --secret ${name}: the environment variable ${name} is not set; export it first\n`);
      return 2;
    }
    secrets[name] = value;
  }
  const tempDir = flags.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'baton-run-'));
  const dataDir = resolve(flags.dataDir ?? tempDir!);
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
  const labels = (flags.labels ?? '')
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
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    return reportError(err, out, { file, json: flags.json });
  }
  const client = createClient({
    baseUrl: server.url,
    token: adminToken,
    userAgent: `baton-run/${batonVersion()}`,
  });
  const interrupt = new AbortController();
  let runId: string | undefined;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1 && runId) {
      out.err('\nbaton: cancelling the run (Ctrl-C again to stop at once)\n');
      void client.cancelRun(runId).catch(() => interrupt.abort());
    } else {
      agent?.stop();
      agent?.stop();
      interrupt.abort();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    // The server checks a custom type against the runners' reported drivers at submit.
    if (drivers !== undefined) await agent?.firstReport;
    // Into the embedded server's store (encrypted under its master key), as `baton secrets set` would.
    for (const [name, value] of Object.entries(secrets)) await client.setSecret(name, value);
    const submitted = await client.submitRun(wf.text, { ...github, fileName: wf.fileName });
    runId = submitted.id;
    let result;
    if (flags.json) {
      for await (const m of client.runStream(runId, { signal: interrupt.signal })) void m;
      result = await client.getRun(runId);
      printJson(out, shape === 'task-group' ? await client.getTaskGroupResult(runId) : result);
    } else {
      out.write(`run ${runId} (${submitted.name}): ${Object.keys(submitted.results).length} task(s)\n`);
      result = await followRun(client, runId, out, { signal: interrupt.signal });
      printSummary(result, out);
    }
    return exitCodeFor(result);
  } catch (err) {
    return reportError(err, out, { file, json: flags.json });
  } finally {
    process.off('SIGINT', onSigint);
    // Stops the embedded runner (through its dispatcher) and then the server.
    await server.close();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

function readWorkflowFileOrReport(file: string, out: ReturnType<typeof createOut>) {
  try {
    return readWorkflowFile(file);
  } catch (err) {
    return reportError(err, out);
  }
}
