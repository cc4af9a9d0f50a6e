// `baton runner register | start | unregister`: set up this machine as a runner and run the agent.
import { join, resolve } from 'node:path';
import { STATE_ROOT, loadIdentity } from '../../runner/identity.ts';
import { rmSync, unlinkSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError, createClient, trustCaFile } from '../../client/index.ts';
import { openRunnerSession } from '../../client/session.ts';
import {
  checkRegistrationToken,
  parseLabels,
  parseMaxParallel,
  readExistingConfig,
  readRegistrationTokenFile,
  readStdinLine,
  registerAndWrite,
} from './runner-register.ts';
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
  RunnerConfigError,
  siblingRunnerConfigs,
  type RunnerLogger,
} from '../../runner/index.ts';
import { CliError, EXIT, reportError } from '../common.ts';
import { registerRunnerSetup } from './runner-setup.ts';
import { parseDuration } from '../../workflow/static-values.ts';
import { createOut } from '../output.ts';
import { batonVersion } from '../version.ts';
import { createLogger, parseLogFormat, parseLogLevel } from '../log.ts';
import { parseMetricsAddr } from '../../runner/metrics-addr.ts';

/** `runner start --idle-timeout`: the runner stopped because no task came at all. Documented in docs/runner-config.md. */
export const EXIT_IDLE_NO_TASK = 3;

interface StartFlags {
  config: string;
  oneOff?: boolean;
  idleTimeout?: string;
  isolation?: string;
  network?: string;
  limitMemory?: string;
  limitPids?: string;
  limitCpu?: string;
  drivers?: string;
  logLevel?: string;
  logFormat?: string;
  metricsAddr?: string;
  session?: boolean;
}

/** `--session`/`--no-session` > BATON_RUNNER_SESSION (true/false/1/0) > the config's `session` (default true). */
function sessionWanted(flag: boolean | undefined, config: boolean): boolean {
  if (flag !== undefined) return flag;
  const env = process.env.BATON_RUNNER_SESSION;
  if (env === undefined || env === '') return config;
  if (env === '1' || env === 'true') return true;
  if (env === '0' || env === 'false') return false;
  throw new CliError(`BATON_RUNNER_SESSION must be true, false, 1 or 0, got ${JSON.stringify(env)}`);
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
  stdinRegistrationToken?: boolean;
  registrationTokenFile?: string;
  name?: string;
  labels?: string;
  config: string;
  maxParallelTasks?: string;
  workDir?: string;
  caFile?: string;
  stateDir?: string;
  tokenFile?: string;
  webhook?: string;
}

export function registerRunner(program: Command, setExit: (code: number) => void): void {
  const runner = program.command('runner').description('set up and run a runner on this machine');
  registerRunnerSetup(runner, setExit);

  runner
    .command('register')
    .description(
      'register this machine with a server and write the runner config file (mode 0600); with an existing config, register it again keeping its settings and overwriting only its token',
    )
    .option('--server <url>', "server URL (BATON_SERVER; default: the config's)")
    .option(
      '--registration-token <token>',
      'registration token (BATON_RUNNER_REGISTRATION_TOKEN); prefer --stdin-registration-token or --registration-token-file, which keep it out of the process list',
    )
    .option('--stdin-registration-token', 'read the registration token from the first line of stdin')
    .option('--registration-token-file <file>', 'read the registration token from this file')
    .option('--name <name>', "runner name (default: the config's, else the host name)")
    .option('--labels <a,b>', "labels that workflows can require with runs_on (default: the config's)")
    .option('--config <file>', 'config file to write', DEFAULT_CONFIG_PATH)
    .option('--max-parallel-tasks <n>', "tasks run at once (default: the config's, else 1)")
    .option('--work-dir <dir>', "where task work dirs are created (default: the config's, else _work)")
    .option(
      '--token-file <file>',
      'write the runner token to this file (mode 0600) and name it as "token_file" in the config, instead of the token itself',
    )
    .option('--ca-file <file>', 'trust this CA certificate (PEM) for an HTTPS server; kept in the config')
    .option(
      '--webhook <url>',
      'the server POSTs {action: start|finish, …} here, signed, when it gives this runner a task and when the task ends (config "webhook"; its secret is printed once)',
    )
    .option(
      '--state-dir <dir>',
      `this runner's own directory for its key pair and spool (default ${STATE_ROOT}/<runner id> next to the config); must not hold another runner's key`,
    )
    .action(async (flags: RegisterFlags) => {
      const out = createOut();
      try {
        const existing = readExistingConfig(flags.config);
        const server =
          flags.server ??
          process.env.BATON_SERVER ??
          (typeof existing?.server === 'string' ? existing.server : undefined);
        if (!server) throw new CliError('pass --server URL (or set BATON_SERVER)');
        const token = await registrationTokenFrom(flags);
        const registered = await registerAndWrite({
          server,
          registrationToken: token,
          config: flags.config,
          ...(flags.name === undefined ? {} : { name: flags.name }),
          ...(flags.labels === undefined ? {} : { labels: parseLabels(flags.labels, '--labels') }),
          ...(flags.maxParallelTasks === undefined
            ? {}
            : { maxParallelTasks: parseMaxParallel(flags.maxParallelTasks, '--max-parallel-tasks') }),
          ...(flags.workDir === undefined ? {} : { workDir: flags.workDir }),
          ...(flags.caFile === undefined ? {} : { caFile: flags.caFile }),
          ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
          ...(flags.tokenFile === undefined ? {} : { tokenFile: flags.tokenFile }),
          ...(flags.webhook === undefined ? {} : { extra: { webhook: flags.webhook } }),
        });
        out.err(
          `registered runner '${registered.name}' (${registered.runnerId}); config written to ${flags.config}${registered.tokenFile ? `, token to ${registered.tokenFile} (mode 0600)` : ''}, key pair and spool in ${registered.stateDir}${registered.previous ? `; ${registered.previous}` : ''}\nstart it with: baton runner start --config ${flags.config}\n${registered.webhookSecret ? `the webhook's signing secret (X-Baton-Signature; shown only now): ${registered.webhookSecret}\n` : ''}${registered.gitWarning ? `${registered.gitWarning}\n` : ''}`,
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
    .option(
      '--one-off',
      'run exactly one task, then exit 0 once the server acknowledged its result (config key "one_off")',
    )
    .option(
      '--session',
      'take and report tasks over one WebSocket (the runner session; the default), HTTP when the server has none (config key "session"; BATON_RUNNER_SESSION)',
    )
    .option('--no-session', 'take and report tasks over HTTP requests only, a request per event')
    .option(
      '--idle-timeout <duration>',
      `stop when no task came for this long (e.g. 90s, 10m): exit ${EXIT_IDLE_NO_TASK} if the runner ran no task at all, 0 otherwise`,
    )
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
        let idleTimeoutMs: number | undefined;
        if (flags.idleTimeout !== undefined) {
          const d = parseDuration(flags.idleTimeout);
          if ('reason' in d) throw new CliError(`--idle-timeout '${flags.idleTimeout}' ${d.reason}`);
          idleTimeoutMs = d.ms;
        }
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
        const config = loadConfig(flags.config);
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
        const http = createClient({
          baseUrl: config.server,
          token: config.token,
          userAgent: `baton-runner/${batonVersion()}`,
        });
        const session = sessionWanted(flags.session, config.session)
          ? openRunnerSession(http, {
              onState: (state, why) => {
                if (state === 'open') log.info('runner session open');
                else if (state === 'unsupported')
                  log.warn(`the server offers no runner session (${why}); using HTTP requests`);
                else if (state === 'closed' && why !== undefined)
                  log.warn(`runner session lost: ${why}; reconnecting`);
              },
            })
          : undefined;
        const agent = new Agent({
          client: session?.client ?? http,
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
          ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
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
          session?.close();
          await metrics?.close();
        }
        log.info(`runner stopped after ${agent.tasksDone} task(s)`);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        if (agent.idledOut && agent.tasksDone === 0)
          throw new CliError(
            `no task came within the idle timeout (${flags.idleTimeout}); exiting with code ${EXIT_IDLE_NO_TASK}`,
            EXIT_IDLE_NO_TASK,
          );
        if (
          agent.lastResult !== undefined &&
          agent.lastResult !== 'acknowledged' &&
          (flags.oneOff === true || config.oneOff)
        )
          throw new CliError(
            agent.lastResult === 'superseded'
              ? 'the one task lost its lease to another attempt; its result was not reported'
              : "the server refused the one task's result",
            EXIT.failed,
          );
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });

  runner
    .command('unregister')
    .description(
      'remove this runner from the server (with its own token) and delete its config file and token file; a runner already removed counts as done',
    )
    .option('--config <file>', 'runner config file', DEFAULT_CONFIG_PATH)
    .action(async (flags: { config: string }) => {
      const out = createOut();
      try {
        const config = loadConfig(flags.config);
        if (config.caFile) trustCaFile(config.caFile);
        let gone = '';
        try {
          await createClient({ baseUrl: config.server, token: config.token }).unregister();
        } catch (err) {
          // The server no longer knows this token: the runner was removed already (from the UI, `baton
          // runners remove`, or an earlier unregister that lost its answer). What is left to do is local.
          if (!(err instanceof ApiError && (err.status === 401 || err.status === 404))) throw err;
          gone = ' (the server no longer knew it: it was already removed)';
        }
        unlinkSync(config.configPath);
        if (config.tokenFile !== undefined) rmSync(config.tokenFile, { force: true });
        out.err(
          `runner '${config.name}' unregistered${gone}; ${flags.config}${config.tokenFile ? ` and ${config.tokenFile}` : ''} removed\n`,
        );
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });
}

/** The runner config; a mistake in it is a usage error (exit 2) naming the file, line and column. */
function loadConfig(path: string) {
  try {
    return loadRunnerConfig(path);
  } catch (err) {
    if (err instanceof RunnerConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** The registration token from exactly one source, trimmed; empty is refused naming the source. */
async function registrationTokenFrom(flags: RegisterFlags): Promise<string> {
  const given = [
    flags.registrationToken !== undefined ? '--registration-token' : undefined,
    flags.stdinRegistrationToken ? '--stdin-registration-token' : undefined,
    flags.registrationTokenFile !== undefined ? '--registration-token-file' : undefined,
  ].filter((x) => x !== undefined);
  if (given.length > 1) throw new CliError(`give one registration token source, not ${given.join(' and ')}`);
  if (flags.stdinRegistrationToken) return checkRegistrationToken(await readStdinLine(), 'stdin');
  if (flags.registrationTokenFile !== undefined)
    return checkRegistrationToken(
      readRegistrationTokenFile(flags.registrationTokenFile),
      `--registration-token-file ${flags.registrationTokenFile}`,
    );
  if (flags.registrationToken !== undefined)
    return checkRegistrationToken(flags.registrationToken, '--registration-token');
  const env = process.env.BATON_RUNNER_REGISTRATION_TOKEN;
  if (env !== undefined) return checkRegistrationToken(env, 'BATON_RUNNER_REGISTRATION_TOKEN');
  throw new CliError(
    'no registration token: pass --stdin-registration-token (echo TOKEN | baton runner register …), --registration-token-file FILE, --registration-token T, or set BATON_RUNNER_REGISTRATION_TOKEN',
  );
}
