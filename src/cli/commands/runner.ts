// `baton runner register | start | unregister`: set up this machine as a runner and run the agent.
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createIdentity, loadIdentity } from '../../runner/identity.ts';
import { unlinkSync } from 'node:fs';
import type { Command } from 'commander';
import { createClient, trustCaFile } from '../../client/index.ts';
import {
  Agent,
  DEFAULT_CONFIG_PATH,
  loadEnvFile,
  withoutBatonSettings,
  loadRunnerConfig,
  writeRunnerConfig,
  type RunnerLogger,
} from '../../runner/index.ts';
import { CliError, reportError } from '../common.ts';
import { createOut } from '../output.ts';
import { batonVersion } from '../version.ts';

interface RegisterFlags {
  server?: string;
  registrationToken?: string;
  name?: string;
  labels?: string;
  config: string;
  maxParallelTasks: string;
  workDir: string;
  caFile?: string;
}

function consoleLogger(name: string): RunnerLogger {
  const line = (level: string, m: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level} [${name}] ${m}\n`);
  return { info: (m) => line('INFO', m), warn: (m) => line('WARN', m), error: (m) => line('ERROR', m) };
}

export function registerRunner(program: Command, setExit: (code: number) => void): void {
  const runner = program.command('runner').description('set up and run a runner on this machine');

  runner
    .command('register')
    .description('register this machine with a server and write the runner config file (mode 0600)')
    .option('--server <url>', 'server URL (BATON_SERVER)')
    .option('--registration-token <token>', 'registration token (BATON_RUNNER_REGISTRATION_TOKEN)')
    .option('--name <name>', 'runner name (default: host name)')
    .option('--labels <a,b>', 'labels that workflows can require with runs_on', '')
    .option('--config <file>', 'config file to write', DEFAULT_CONFIG_PATH)
    .option('--max-parallel-tasks <n>', 'tasks run at once', '1')
    .option('--work-dir <dir>', 'where task work dirs are created', '_work')
    .option('--ca-file <file>', 'trust this CA certificate (PEM) for an HTTPS server; kept in the config')
    .action(async (flags: RegisterFlags) => {
      const out = createOut();
      try {
        const server = flags.server ?? process.env.BATON_SERVER;
        const token = flags.registrationToken ?? process.env.BATON_RUNNER_REGISTRATION_TOKEN;
        if (!server) throw new CliError('pass --server URL (or set BATON_SERVER)');
        if (!token)
          throw new CliError('pass --registration-token T (or set BATON_RUNNER_REGISTRATION_TOKEN)');
        const max = Number(flags.maxParallelTasks);
        if (!Number.isInteger(max) || max < 1 || max > 256)
          throw new CliError(`--max-parallel-tasks must be 1–256, got '${flags.maxParallelTasks}'`);
        const name = (flags.name ?? hostname()).replace(/[^A-Za-z0-9_.@-]/g, '-');
        const labels = (flags.labels ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (flags.caFile) trustCaFile(flags.caFile);
        const client = createClient({ baseUrl: server, userAgent: `baton-runner/${batonVersion()}` });
        // The key pair lives in the state dir next to the config; only the public half goes to the server.
        const keys = await createIdentity(join(dirname(resolve(flags.config)), '.baton-state'));
        const reg = await client.register(token, {
          name,
          labels,
          capacity: max,
          version: batonVersion(),
          publicKey: keys.publicKey,
        });
        writeRunnerConfig(flags.config, {
          server,
          runner_id: reg.runnerId,
          name,
          token: reg.token,
          labels,
          max_parallel_tasks: max,
          work_dir: flags.workDir,
          ...(flags.caFile ? { ca_file: resolve(flags.caFile) } : {}),
        });
        out.err(
          `registered runner '${name}' (${reg.runnerId}); config written to ${flags.config}\nstart it with: baton runner start --config ${flags.config}\n`,
        );
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });

  runner
    .command('start')
    .description(
      'run the agent: take tasks from the server until stopped (SIGTERM once: finish; twice: cancel)',
    )
    .option('--config <file>', 'runner config file', DEFAULT_CONFIG_PATH)
    .option('--one-off', 'exit after one task')
    .action(async (flags: { config: string; oneOff?: boolean }) => {
      const out = createOut();
      try {
        const config = loadRunnerConfig(flags.config);
        if (config.caFile) trustCaFile(config.caFile);
        const log = consoleLogger(config.name);
        const agent = new Agent({
          client: createClient({
            baseUrl: config.server,
            token: config.token,
            userAgent: `baton-runner/${batonVersion()}`,
          }),
          name: config.name,
          maxParallelTasks: config.maxParallelTasks,
          workDir: config.workDir,
          baseEnv: {
            ...withoutBatonSettings(process.env),
            ...loadEnvFile(join(config.baseDir, '.env')),
          },
          hide: [config.configPath, ...(config.tokenFile === undefined ? [] : [config.tokenFile])],
          oneOff: flags.oneOff === true || config.oneOff,
          stateDir: config.stateDir,
          keys: loadIdentity(config.stateDir),
          minFreeDiskBytes: config.minFreeDiskBytes,
          log,
        });
        const onSignal = (sig: string) => {
          log.info(`received ${sig}`);
          agent.stop();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        log.info(
          `runner '${config.name}' started: server ${config.server}, ${config.maxParallelTasks} slot(s), labels [${config.labels.join(', ')}], work dir ${config.workDir}`,
        );
        await agent.run();
        log.info(`runner stopped after ${agent.tasksDone} task(s)`);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });

  runner
    .command('unregister')
    .description('remove this runner from the server and delete its config file')
    .option('--config <file>', 'runner config file', DEFAULT_CONFIG_PATH)
    .action(async (flags: { config: string }) => {
      const out = createOut();
      try {
        const config = loadRunnerConfig(flags.config);
        await createClient({ baseUrl: config.server, token: config.token }).unregister();
        unlinkSync(config.configPath);
        out.err(`runner '${config.name}' unregistered; ${flags.config} removed\n`);
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });
}
