// `baton server`: the control plane as a long-running process. SIGTERM/SIGINT close it cleanly.
import type { Command } from 'commander';
import { createOut } from '../output.ts';
import { CliError, reportError } from '../common.ts';
import { logDestination, parseLogFormat, parseLogLevel, type LogFormat } from '../log.ts';

interface ServerFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  blobDir?: string;
  database?: string;
  adminToken?: string;
  registrationToken?: string;
  heartbeatInterval?: string;
  leaseTtl?: string;
  ackWindow?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  dispatchers?: string;
  config?: string;
  printConfig?: boolean;
  logFormat?: string;
  metricsHost?: string;
  metricsPort?: string;
}

function portFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${flag} must be 0–65535, got '${v}'`);
  return n;
}

function ms(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag} must be a positive number of milliseconds, got '${v}'`);
  return n;
}

export function registerServer(program: Command, setExit: (code: number) => void): void {
  program
    .command('server')
    .description('run the Baton server (API, scheduler, dispatch) until stopped')
    .option('--host <host>', 'address to listen on (default 127.0.0.1; BATON_HOST)')
    .option('--port <port>', 'port to listen on (default 8480; BATON_PORT)')
    .option('--data-dir <dir>', 'where the database and blobs live (default ~/.baton; BATON_DATA_DIR)')
    .option(
      '--blob-dir <dir>',
      'where artifacts and task logs live (default <data-dir>/blobs; BATON_BLOB_DIR); replicas on one database share one',
    )
    .option(
      '--database <path-or-url>',
      'a SQLite file (default <data-dir>/baton.db) or a postgres:// URL shared by several servers (BATON_DATABASE_URL)',
    )
    .option(
      '--admin-token <token>',
      'accept this admin user token (BATON_ADMIN_TOKEN); otherwise one is printed at first start',
    )
    .option(
      '--registration-token <token>',
      'accept this runner registration token (BATON_RUNNER_REGISTRATION_TOKEN)',
    )
    .option('--heartbeat-interval <ms>', 'runner heartbeat interval (default 10000)')
    .option('--lease-ttl <ms>', 'lease time-to-live (default 45000)')
    .option('--ack-window <ms>', 'time a runner has to confirm an offer (default 15000)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (BATON_TLS_CERT)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (BATON_TLS_KEY)')
    .option(
      '--log-level <level>',
      'trace, debug, info, warn, error, fatal, silent (default info; BATON_LOG_LEVEL)',
    )
    .option(
      '--log-format <format>',
      'json (one JSON object a line) or pretty (a line for people) (default json; BATON_LOG_FORMAT)',
    )
    .option(
      '--config <file>',
      'a YAML config file (README "Operating Baton"); flags and BATON_* variables override it',
    )
    .option('--print-config', 'print the effective configuration, secrets redacted, and exit')
    .option(
      '--metrics-port <port>',
      'also serve GET /metrics WITHOUT authentication on this port, for a scraper in a private network (BATON_METRICS_PORT)',
    )
    .option(
      '--metrics-host <host>',
      'address of the --metrics-port listener (default 127.0.0.1; BATON_METRICS_HOST)',
    )
    .option(
      '--dispatchers <a,b>',
      'ways tasks reach executors: pull (runners long-poll), push (the server POSTs to push runners) (default pull,push; BATON_DISPATCHERS; docs/dispatchers.md)',
    )
    .action(async (flags: ServerFlags) => {
      const out = createOut();
      try {
        const port = portFlag('--port', flags.port);
        const metricsPort = portFlag('--metrics-port', flags.metricsPort);
        if (flags.logLevel !== undefined) parseLogLevel(flags.logLevel);
        const logFormat = flags.logFormat === undefined ? undefined : parseLogFormat(flags.logFormat);
        // Loaded here, not at the top: every other command (the runner above all) stays free of the server's code.
        const { buildServerConfig, startServer, loadServerConfigFile, printableConfig, redactDatabaseUrl } =
          await import('../../server/index.ts');
        // A bad setting, wherever it came from (flag, variable, file), is a usage error: exit 2 naming it.
        const usage = <T>(f: () => T): T => {
          try {
            return f();
          } catch (err) {
            throw new CliError((err as Error).message);
          }
        };
        const file = flags.config === undefined ? {} : usage(() => loadServerConfigFile(flags.config!));
        const config = usage(() =>
          buildServerConfig({
            env: process.env,
            file,
            logFormat,
            metricsPort,
            metricsHost: flags.metricsHost,
            host: flags.host,
            port,
            dataDir: flags.dataDir,
            blobDir: flags.blobDir,
            database: flags.database,
            adminToken: flags.adminToken,
            registrationToken: flags.registrationToken,
            heartbeatIntervalMs: ms('--heartbeat-interval', flags.heartbeatInterval),
            leaseTtlMs: ms('--lease-ttl', flags.leaseTtl),
            ackWindowMs: ms('--ack-window', flags.ackWindow),
            logLevel: flags.logLevel,
            tlsCertFile: flags.tlsCert,
            tlsKeyFile: flags.tlsKey,
            ...(flags.dispatchers === undefined
              ? {}
              : {
                  dispatchers: flags.dispatchers
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                }),
          }),
        );
        if (flags.printConfig) {
          const { stringify } = await import('yaml');
          out.write(stringify(printableConfig(config)));
          setExit(0);
          return;
        }
        const server = await startServer(config, {
          logger: { level: config.logLevel, stream: logDestination(config.logFormat as LogFormat) },
        });
        out.err(
          `baton server listening on ${server.url} (database: ${redactDatabaseUrl(config.database)})\n`,
        );
        if (server.metricsUrl) out.err(`metrics (no authentication) on ${server.metricsUrl}\n`);
        if (server.generatedAdminToken) {
          out.err(
            `\nAdmin token (shown once, stored only as a hash — keep it now):\n\n  ${server.generatedAdminToken}\n\n` +
              `  export BATON_SERVER=${server.url} BATON_TOKEN=${server.generatedAdminToken}\n\n`,
          );
        }
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
        out.err('baton server: shutting down\n');
        await server.close();
        setExit(0);
      } catch (err) {
        setExit(reportError(err, out));
      }
    });
}
