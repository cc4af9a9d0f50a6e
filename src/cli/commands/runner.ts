// `baton runner register | start | unregister`: set up this machine as a runner and run the agent.
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  STATE_ROOT,
  assertNoIdentity,
  loadIdentity,
  newIdentity,
  saveIdentity,
} from '../../runner/identity.ts';
import { unlinkSync } from 'node:fs';
import type { Command } from 'commander';
import { createClient, trustCaFile } from '../../client/index.ts';
import {
  describeLimits,
  findDrivers,
  limitsSupport,
  parseCpuLimit,
  parseMemoryLimit,
  parsePidsLimit,
  type Driver,
  type FoundDrivers,
} from '../../engine/index.ts';
import type { TaskLimits } from '../../protocol/plan.ts';
import {
  Agent,
  DEFAULT_CONFIG_PATH,
  ISOLATIONS,
  NETWORKS,
  loadEnvFile,
  parseIsolation,
  parseNetwork,
  proveIsolation,
  withoutBatonSettings,
  loadRunnerConfig,
  siblingRunnerConfigs,
  writeRunnerConfig,
  type RunnerLogger,
} from '../../runner/index.ts';
import { CliError, reportError } from '../common.ts';
import { createOut } from '../output.ts';
import { batonVersion } from '../version.ts';
import { createLogger, parseLogFormat, parseLogLevel } from '../log.ts';
import { parseMetricsAddr } from '../../runner/metrics-addr.ts';

interface StartFlags {
  config: string;
  oneOff?: boolean;
  isolation?: string;
  network?: string;
  limitMemory?: string;
  limitPids?: string;
  limitCpu?: string;
  drivers?: string;
  logLevel?: string;
  logFormat?: string;
  metricsAddr?: string;
}

/** The drivers directory read once at start; a directory that cannot be read stops the runner. */
function loadDrivers(dir: string | undefined, log: RunnerLogger): Map<string, Driver> | undefined {
  if (dir === undefined) return undefined;
  let found: FoundDrivers;
  try {
    found = findDrivers(dir);
  } catch (error) {
    throw new CliError(`cannot read the drivers directory ${dir}: ${(error as Error).message}`);
  }
  for (const skipped of found.skipped) log.warn(`drivers directory ${dir}: skipped ${skipped}`);
  log.info(
    `drivers: ${found.drivers.size === 0 ? 'none' : [...found.drivers.keys()].join(', ')} (from ${resolve(dir)})`,
  );
  return found.drivers;
}

/**
 * The runner's default resource limits: the config's, each flag overriding its own. A runner given defaults it
 * cannot enforce refuses to start rather than run tasks without them.
 */
async function startLimits(
  name: string,
  fromConfig: TaskLimits | undefined,
  flags: StartFlags,
  isolation: 'host' | 'sandbox',
): Promise<TaskLimits | undefined> {
  let limits: TaskLimits;
  try {
    limits = {
      ...fromConfig,
      ...(flags.limitMemory === undefined
        ? {}
        : { memoryBytes: parseMemoryLimit(flags.limitMemory, '--limit-memory') }),
      ...(flags.limitPids === undefined ? {} : { pids: parsePidsLimit(flags.limitPids, '--limit-pids') }),
      ...(flags.limitCpu === undefined ? {} : { cpu: parseCpuLimit(flags.limitCpu, '--limit-cpu') }),
    };
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  if (Object.keys(limits).length === 0) return undefined;
  const support = await limitsSupport(isolation === 'sandbox' ? 'sandbox' : 'auto');
  if (!support.ok)
    throw new CliError(
      `runner '${name}' cannot enforce its default resource limits (${describeLimits(limits)}): ${support.why}`,
    );
  return limits;
}

interface RegisterFlags {
  server?: string;
  registrationToken?: string;
  name?: string;
  labels?: string;
  config: string;
  maxParallelTasks: string;
  workDir: string;
  caFile?: string;
  stateDir?: string;
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
    .option(
      '--state-dir <dir>',
      `this runner's own directory for its key pair and spool (default ${STATE_ROOT}/<runner id> next to the config); must not hold another runner's key`,
    )
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
        // The key pair lives in a state dir of this runner's own (several configs may share a directory);
        // only the public half goes to the server. A chosen dir is checked before registering.
        const configDir = dirname(resolve(flags.config));
        if (flags.stateDir !== undefined && flags.stateDir.trim() === '')
          throw new CliError('--state-dir must name a directory, got an empty string');
        const chosenStateDir = flags.stateDir === undefined ? undefined : resolve(flags.stateDir);
        if (chosenStateDir !== undefined) assertNoIdentity(chosenStateDir);
        const keys = await newIdentity();
        const reg = await client.register(token, {
          name,
          labels,
          capacity: max,
          version: batonVersion(),
          publicKey: keys.publicKey,
        });
        const stateDir = chosenStateDir ?? join(configDir, STATE_ROOT, reg.runnerId);
        try {
          saveIdentity(stateDir, reg.runnerId, keys);
        } catch (err) {
          // Registered, but its key has nowhere to go: take the registration back rather than leave a runner
          // whose secrets nobody can open.
          await createClient({ baseUrl: server, token: reg.token })
            .unregister()
            .catch(() => {});
          throw err;
        }
        // Kept relative when it sits under the config's directory, so the directory can be moved as a whole.
        const rel = relative(configDir, stateDir);
        writeRunnerConfig(flags.config, {
          server,
          runner_id: reg.runnerId,
          state_dir: rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : stateDir,
          name,
          token: reg.token,
          labels,
          max_parallel_tasks: max,
          work_dir: flags.workDir,
          ...(flags.caFile ? { ca_file: resolve(flags.caFile) } : {}),
        });
        out.err(
          `registered runner '${name}' (${reg.runnerId}); config written to ${flags.config}, key pair and spool in ${stateDir}\nstart it with: baton runner start --config ${flags.config}\n`,
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
    .option(
      '--isolation <level>',
      `${ISOLATIONS.join(' | ')}: sandbox runs each step in bubblewrap (needs the Debian package bubblewrap); default: the config's "isolation", else host`,
    )
    .option(
      '--network <mode>',
      `${NETWORKS.join(' | ')}: none runs every task without network (needs --isolation sandbox); default: the config's "network", else host`,
    )
    .option(
      '--limit-memory <size>',
      "memory limit for tasks that set none (e.g. 512M); overrides the config's limits.memory",
    )
    .option('--limit-pids <n>', "process limit for tasks that set none; overrides the config's limits.pids")
    .option(
      '--limit-cpu <cpus>',
      "CPU limit for tasks that set none (e.g. 1.5); overrides the config's limits.cpu",
    )
    .option(
      '--drivers <dir>',
      'directory of CGI programs: each executable <type> or <type>.cgi runs tasks of that custom type (docs/drivers.md); overrides the config\'s "drivers"',
    )
    .option(
      '--log-level <level>',
      'trace, debug, info, warn, error, fatal, silent (default info; BATON_LOG_LEVEL)',
    )
    .option('--log-format <format>', 'json or pretty (default json; BATON_LOG_FORMAT)')
    .option(
      '--metrics-addr <host:port>',
      'serve Prometheus metrics at http://HOST:PORT/metrics, without authentication (loopback or a private network)',
    )
    .action(async (flags: StartFlags) => {
      const out = createOut();
      try {
        const logLevel = parseLogLevel(
          flags.logLevel ?? process.env.BATON_LOG_LEVEL ?? 'info',
          flags.logLevel === undefined ? 'BATON_LOG_LEVEL' : '--log-level',
        );
        const logFormat = parseLogFormat(
          flags.logFormat ?? process.env.BATON_LOG_FORMAT ?? 'json',
          flags.logFormat === undefined ? 'BATON_LOG_FORMAT' : '--log-format',
        );
        let metricsAddr: { host: string; port: number } | undefined;
        try {
          if (flags.metricsAddr !== undefined) metricsAddr = parseMetricsAddr(flags.metricsAddr);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        const config = loadRunnerConfig(flags.config);
        let level = config.isolation;
        try {
          if (flags.isolation !== undefined) level = parseIsolation(flags.isolation, '--isolation');
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        let network = config.network;
        try {
          if (flags.network !== undefined) network = parseNetwork(flags.network, '--network');
        } catch (err) {
          throw new CliError((err as Error).message);
        }
        const proven = await proveIsolation(level, network);
        if ('error' in proven) throw new CliError(proven.error);
        const isolation = proven.isolation;
        const defaultLimits = await startLimits(config.name, config.limits, flags, isolation.level);
        if (config.caFile) trustCaFile(config.caFile);
        const log = createLogger({ level: logLevel, format: logFormat, name: config.name });
        const drivers = loadDrivers(flags.drivers ?? config.driversDir, log);
        const identity = loadIdentity(config.stateDir, config.runnerId);
        if (config.sharedStateDir && identity)
          log.warn(
            `${config.configPath} names no "state_dir": this runner keeps its key pair and spool in ${config.stateDir}, which every runner config in ${config.baseDir} shares — a second runner registered there replaces this key and its secrets stop opening. It keeps working as long as it is the only one; to give it a state dir of its own, register it again (baton runner register --config ${config.configPath}) or move ${config.stateDir} to a directory of its own and set "state_dir" in the config to it`,
          );
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
          // The state root of every runner configured next to this one too, not only this runner's own state
          // dir (which the agent hides): no task reads a sibling runner's key or spool.
          // Last: a path hidden after a directory above it would no longer exist in the step's view.
          hide: [
            config.configPath,
            ...siblingRunnerConfigs(config.baseDir, config.configPath),
            ...(config.tokenFile === undefined ? [] : [config.tokenFile]),
            join(config.baseDir, STATE_ROOT),
          ],
          oneOff: flags.oneOff === true || config.oneOff,
          stateDir: config.stateDir,
          keys: identity?.keys,
          minFreeDiskBytes: config.minFreeDiskBytes,
          isolation,
          network,
          ...(defaultLimits === undefined ? {} : { defaultLimits }),
          ...(drivers === undefined ? {} : { drivers }),
          log,
        });
        const onSignal = (sig: string) => {
          log.info(`received ${sig}`);
          agent.stop();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        // prom-client is loaded only by a runner asked for metrics: an idle runner stays small (issue 8).
        const metrics = metricsAddr
          ? await import('../../runner/metrics.ts').then((m) =>
              m.serveRunnerMetrics(m.runnerRegistry(agent), metricsAddr.host, metricsAddr.port),
            )
          : undefined;
        if (metrics) log.info(`metrics (no authentication) on ${metrics.url}`);
        log.info(
          `runner '${config.name}' started: server ${config.server}, ${config.maxParallelTasks} slot(s), labels [${config.labels.join(', ')}], work dir ${config.workDir}, isolation ${isolation.level}${network === 'none' ? ', no network' : ''}`,
        );
        try {
          await agent.run();
        } finally {
          await metrics?.close();
        }
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
