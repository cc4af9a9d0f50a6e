// `baton run WORKFLOW`: an embedded server (SQLite in a temp dir) and a local runner in this process, talking
// over real HTTP on loopback — the same path as production — with live progress and a summary.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createClient } from '../../client/index.ts';
import { generateKeyPair } from '../../protocol/sealed.ts';
import type { Agent, RunnerLogger } from '../../runner/index.ts';
import { collectInput, readWorkflowFile, reportError } from '../common.ts';
import { exitCodeFor, followRun, printSummary } from '../follow.ts';
import { createOut, printJson } from '../output.ts';
import { RUN_SHAPES } from '../../protocol/status.ts';
import { batonVersion } from '../version.ts';

interface RunFlags {
  input: Record<string, string>;
  json?: boolean;
  shape?: string;
  dataDir?: string;
  labels?: string;
  parallel: string;
  verbose?: boolean;
  secret: string[];
}

export function registerRun(program: Command, setExit: (code: number) => void): void {
  program
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
      '--secret <NAME>',
      "a secret for the run's ${{ secrets.NAME }} and `type: secret` tasks, its value taken from the environment variable NAME (never an argument: shells keep history); repeatable",
      (name: string, all: string[]) => [...all, name],
      [] as string[],
    )
    .action(async (file: string, flags: RunFlags) => setExit(await runCommand(file, flags)));
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
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) {
    out.err(`baton: --parallel must be an integer from 1 to 64, got '${flags.parallel}'\n`);
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
  const { buildServerConfig, generateToken, startServer } = await import('../../server/index.ts');
  const { Agent, loadEnvFile, withoutBatonSettings } = await import('../../runner/index.ts');
  const adminToken = generateToken('user');
  const registrationToken = generateToken('registration');
  const config = buildServerConfig({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    adminToken,
    registrationToken,
    logLevel: 'warn',
    env: {},
  });
  const server = await startServer(config, { logger: flags.verbose ? { level: 'info' } : false });
  const client = createClient({
    baseUrl: server.url,
    token: adminToken,
    userAgent: `baton-run/${batonVersion()}`,
  });
  const log: RunnerLogger = {
    info: (m) => flags.verbose && out.err(`runner: ${m}\n`),
    warn: (m) => flags.verbose && out.err(`runner: ${m}\n`),
    error: (m) => out.err(`runner: ${m}\n`),
  };
  let agent: Agent | undefined;
  let agentDone: Promise<void> = Promise.resolve();
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
    const labels = (flags.labels ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const keys = await generateKeyPair();
    const reg = await client.register(registrationToken, {
      publicKey: keys.publicKey,
      name: 'local',
      labels,
      capacity: parallel,
      version: batonVersion(),
    });
    agent = new Agent({
      client: createClient({
        baseUrl: server.url,
        token: reg.token,
        userAgent: `baton-runner/${batonVersion()}`,
      }),
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
      log,
    });
    agentDone = agent.run();
    // Into the embedded server's store (encrypted under its master key), as `baton secrets set` would.
    for (const [name, value] of Object.entries(secrets)) await client.setSecret(name, value);
    const submitted = await client.submitRun(wf.text, { inputs: flags.input, fileName: wf.fileName });
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
    agent?.stop();
    await agentDone;
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
