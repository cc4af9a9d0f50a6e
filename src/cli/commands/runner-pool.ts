// `baton runner pool`: an ephemeral runner pool — every task on a fresh one-task runner identity, destroyed
// after. `baton runner pool status` shows its slots. (`baton runner pool slot` is the pool's own child.)
import { existsSync, readFileSync } from 'node:fs';
import { findDrivers } from '../../engine/index.ts';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { trustCaFile } from '../../client/index.ts';
import { toError } from '../../protocol/errors.ts';
import {
  ISOLATIONS,
  NETWORKS,
  parseIsolation,
  parseNetwork,
  proveIsolation,
  withoutBatonSettings,
  type Isolation,
} from '../../runner/index.ts';
import { Pool, STATUS_FILE, type PoolStatus } from '../../runner/pool.ts';
import { runSlot } from '../../runner/pool-slot.ts';
import { missingHeapFlags } from '../../runner/heap-flags.ts';
import { parseDuration } from '../../workflow/static-values.ts';
import { CliError, reportError } from '../common.ts';
import { createOut } from '../output.ts';
import { batonVersion } from '../version.ts';
import { createLogger, parseLogFormat, parseLogLevel } from '../log.ts';

interface PoolFlags {
  server?: string;
  registrationToken?: string;
  registrationTokenFile?: string;
  size: string;
  lifetime?: string;
  isolation: string;
  network: string;
  labels: string;
  dir: string;
  workDir?: string;
  name?: string;
  caFile?: string;
  drivers?: string;
  logLevel?: string;
  logFormat?: string;
}

const DEFAULT_POOL_DIR = '.baton-pool';

function registrationToken(flags: PoolFlags): string {
  if (flags.registrationTokenFile !== undefined) {
    try {
      const t = readFileSync(flags.registrationTokenFile, 'utf8').trim();
      if (t) return t;
    } catch (err) {
      throw new CliError(
        `--registration-token-file ${flags.registrationTokenFile}: ${(err as Error).message}`,
      );
    }
    throw new CliError(`--registration-token-file ${flags.registrationTokenFile} is empty`);
  }
  const t = flags.registrationToken ?? process.env.BATON_RUNNER_REGISTRATION_TOKEN;
  if (!t)
    throw new CliError(
      'pass --registration-token-file FILE, --registration-token T or set BATON_RUNNER_REGISTRATION_TOKEN',
    );
  return t;
}

export function registerRunnerPool(runner: Command, setExit: (code: number) => void): void {
  const pool = runner
    .command('pool')
    .description(
      'run an ephemeral runner pool: each slot serves one task on a fresh runner identity, then destroys it and starts over (SIGTERM once: drain; twice: cancel)',
    )
    .option('--server <url>', 'server URL (BATON_SERVER)')
    .option(
      '--registration-token <token>',
      'registration token (BATON_RUNNER_REGISTRATION_TOKEN); visible in the process list — prefer --registration-token-file',
    )
    .option('--registration-token-file <file>', 'read the registration token from this file')
    .option('--size <n>', 'slots: tasks run at once, each on its own runner', '1')
    .option('--lifetime <duration>', 'per-slot lifetime (e.g. 8h): a slot past it drains and stops')
    .option(
      '--isolation <level>',
      `${ISOLATIONS.join(' | ')}: isolation of the slots’ tasks (sandbox: bubblewrap, needs the Debian package bubblewrap)`,
      'host',
    )
    .option(
      '--network <mode>',
      `${NETWORKS.join(' | ')}: none runs every task without network (needs --isolation sandbox)`,
      'host',
    )
    .option('--labels <a,b>', 'labels that workflows can require with runs_on', '')
    .option('--dir <dir>', "the pool's private directory (mode 0700, hidden from tasks)", DEFAULT_POOL_DIR)
    .option('--work-dir <dir>', 'where slots make their work dirs (default <dir>/work)')
    .option('--name <prefix>', 'runner name prefix (default: host name)')
    .option('--ca-file <file>', 'trust this CA certificate (PEM) for an HTTPS server')
    .option(
      '--drivers <dir>',
      'directory of CGI programs for custom task types, given to every slot (docs/drivers.md)',
    )
    .option(
      '--log-level <level>',
      'trace, debug, info, warn, error, fatal, silent, for the pool and its slots (default info; BATON_LOG_LEVEL)',
    )
    .option('--log-format <format>', 'json or pretty (default json; BATON_LOG_FORMAT)')
    .action(async (flags: PoolFlags) => {
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
        const server = flags.server ?? process.env.BATON_SERVER;
        if (!server) throw new CliError('pass --server URL (or set BATON_SERVER)');
        const token = registrationToken(flags);
        const size = Number(flags.size);
        if (!Number.isInteger(size) || size < 1 || size > 256)
          throw new CliError(`--size must be an integer from 1 to 256, got '${flags.size}'`);
        let lifetimeMs: number | undefined;
        if (flags.lifetime !== undefined) {
          const d = parseDuration(flags.lifetime);
          if ('reason' in d) throw new CliError(`--lifetime '${flags.lifetime}' ${d.reason}`);
          lifetimeMs = d.ms;
        }
        let isolation: Isolation;
        try {
          isolation = parseIsolation(flags.isolation, '--isolation');
        } catch (err) {
          throw new CliError(toError(err).message);
        }
        // Every slot would fail its tasks in a sandbox that cannot start: refuse here, with what to install.
        let network: 'host' | 'none';
        try {
          network = parseNetwork(flags.network, '--network');
        } catch (err) {
          throw new CliError(toError(err).message);
        }
        const proven = await proveIsolation(isolation, network);
        if ('error' in proven) throw new CliError(proven.error, proven.missing ? 1 : undefined);
        const labels = flags.labels
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const prefix = (flags.name ?? hostname()).replace(/[^A-Za-z0-9_.@-]/g, '-').slice(0, 60);
        if (flags.caFile) trustCaFile(flags.caFile);
        const dir = resolve(flags.dir);
        const live = readStatus(dir);
        if (live && pidAlive(live.pid))
          throw new CliError(
            `${dir} belongs to a running pool (pid ${live.pid}); give this pool its own --dir`,
          );
        const log = createLogger({ level: logLevel, format: logFormat, name: 'pool' });
        // Read once here too, so a mistyped directory stops the pool rather than every slot.
        const drivers = flags.drivers === undefined ? undefined : resolve(flags.drivers);
        if (drivers !== undefined) {
          try {
            const found = findDrivers(drivers);
            log.info(`drivers: ${[...found.drivers.keys()].join(', ') || 'none'} (from ${drivers})`);
          } catch (err) {
            throw new CliError(`cannot read the drivers directory ${drivers}: ${toError(err).message}`);
          }
        }
        const p = new Pool({
          server,
          registrationToken: token,
          size,
          lifetimeMs,
          isolation,
          network,
          ...(drivers === undefined ? {} : { drivers }),
          labels,
          dir,
          workDir: resolve(flags.workDir ?? join(dir, 'work')),
          namePrefix: prefix,
          version: batonVersion(),
          ...(flags.caFile ? { caFile: resolve(flags.caFile) } : {}),
          // Each slot runner streams its task's log: it starts with the runner's heap settings (heap-flags.ts).
          slotCommand: [
            process.execPath,
            ...process.execArgv,
            ...missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS),
            process.argv[1] ?? '',
            'runner',
            'pool',
            'slot',
          ],
          // The slots log as the pool does (a slot strips BATON_* again before anything reaches a task).
          slotEnv: {
            ...withoutBatonSettings(process.env),
            BATON_LOG_LEVEL: logLevel,
            BATON_LOG_FORMAT: logFormat,
          },
          log,
        });
        const onSignal = (sig: string) => {
          log.info(`received ${sig}`);
          p.stop();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        log.info(
          `pool started: ${size} slot(s), server ${server}, isolation ${flags.isolation}${network === 'none' ? ', no network' : ''}, labels [${labels.join(', ')}]${lifetimeMs === undefined ? '' : `, lifetime ${flags.lifetime}`}, dir ${dir}`,
        );
        await p.run();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        log.info('pool stopped: every slot has ended');
        setExit(p.failed ? 1 : 0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });

  pool
    .command('status')
    .description("show a pool's slots: state, current task, tasks served, age")
    .option('--dir <dir>', `the pool's directory (default ${DEFAULT_POOL_DIR})`)
    .option('--json', 'print the status as JSON')
    .action((flags: { dir?: string; json?: boolean }) => {
      const out = createOut();
      try {
        // Commander hands `--dir` to `pool` itself when it follows `status` (both define it): take either.
        const given = flags.dir ?? (pool.opts() as { dir: string }).dir;
        const dir = resolve(given);
        const status = readStatus(dir);
        if (!status) throw new CliError(`no pool status in ${dir} (is a pool running with --dir ${given}?)`);
        const running = pidAlive(status.pid);
        if (flags.json) {
          out.write(JSON.stringify({ ...status, running }, null, 2) + '\n');
          setExit(0);
          return;
        }
        const now = Date.now();
        out.write(
          `pool pid ${status.pid} (${running ? (status.stopping ? 'stopping' : 'running') : 'not running'}), server ${status.server}\n`,
        );
        const rows = [['SLOT', 'STATE', 'TASK', 'SERVED', 'AGE', 'RUNNER']];
        for (const s of status.slots)
          rows.push([
            String(s.index),
            s.state,
            s.task ?? '-',
            String(s.tasksServed),
            age(now - Date.parse(s.startedAt)),
            s.runnerName ?? '-',
          ]);
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows)
          out.write(
            r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd() + '\n',
          );
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });

  pool
    .command('slot', { hidden: true })
    .description("a pool slot's runner; started by `baton runner pool` only")
    .action(async () => {
      const out = createOut();
      try {
        setExit(await runSlot());
      } catch (err) {
        setExit(reportError(err, out));
      }
    });
}

function readStatus(dir: string): PoolStatus | undefined {
  const path = join(dir, STATUS_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PoolStatus;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
