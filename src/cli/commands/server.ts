// `baton server`: the control plane as a long-running process. SIGTERM/SIGINT close it cleanly.
import type { Command } from 'commander';
import { createOut } from '../output.ts';
import { CliError, reportError } from '../common.ts';

interface ServerFlags {
  host?: string;
  port?: string;
  dataDir?: string;
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
}

/** A database URL as it may be printed: without its password. */
function redactUrl(database: string): string {
  return database.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
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
    .option('--log-level <level>', 'trace, debug, info, warn, error (default info; BATON_LOG_LEVEL)')
    .option(
      '--dispatchers <a,b>',
      'ways tasks reach executors: pull (runners long-poll), push (the server POSTs to push runners) (default pull,push; BATON_DISPATCHERS; docs/dispatchers.md)',
    )
    .action(async (flags: ServerFlags) => {
      const out = createOut();
      try {
        const port = flags.port === undefined ? undefined : Number(flags.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
          throw new CliError(`--port must be 0–65535, got '${flags.port}'`);
        }
        // Loaded here, not at the top: every other command (the runner above all) stays free of the server's code.
        const { buildServerConfig, startServer } = await import('../../server/index.ts');
        const config = buildServerConfig({
          env: process.env,
          host: flags.host,
          port,
          dataDir: flags.dataDir,
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
        });
        const server = await startServer(config);
        out.err(`baton server listening on ${server.url} (database: ${redactUrl(config.database)})\n`);
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
