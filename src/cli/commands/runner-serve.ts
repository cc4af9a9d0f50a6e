// `baton runner serve`: an Automn-compatible push runner (src/runner/automn). Settings come from AUTOMN_* or
// BATON_SERVE_* variables (docs/automn.md).
import type { Command } from 'commander';
import { CONTAINMENTS, type Containment } from '../../engine/index.ts';
import { serveConfig } from '../../runner/automn/config.ts';
import { AutomnRunner } from '../../runner/automn/server.ts';

export function registerRunnerServe(runner: Command, setExit: (code: number) => void): void {
  runner
    .command('serve')
    .description(
      'serve as an Automn-compatible push runner: the host POSTs scripts to /api/run (settings: AUTOMN_* / BATON_SERVE_* variables)',
    )
    .option('--listen <host>', 'address to listen on', '0.0.0.0')
    .option('--containment <mode>', `process containment: ${CONTAINMENTS.join(', ')}`, 'auto')
    .option('--grace <ms>', 'time between SIGTERM and SIGKILL on timeout or disconnect', '5000')
    .action(async (flags: { listen: string; containment: string; grace: string }) => {
      if (!(CONTAINMENTS as readonly string[]).includes(flags.containment)) {
        process.stderr.write(
          `error: --containment '${flags.containment}' is not one of ${CONTAINMENTS.join(', ')}\n`,
        );
        setExit(2);
        return;
      }
      const grace = Number(flags.grace);
      if (!Number.isInteger(grace) || grace < 0) {
        process.stderr.write(`error: --grace '${flags.grace}' must be a whole number of milliseconds\n`);
        setExit(2);
        return;
      }
      let config;
      try {
        config = serveConfig();
      } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        setExit(2);
        return;
      }
      const runner = new AutomnRunner({
        config,
        env: process.env,
        containment: flags.containment as Containment,
        graceMs: grace,
      });
      let port: number;
      try {
        port = await runner.listen(config.port, flags.listen);
      } catch (error) {
        process.stderr.write(`error: ${(error as Error).message}\n`);
        setExit(2);
        return;
      }
      process.stdout.write(`automn runner listening on ${flags.listen}:${port}\n`);
      runner.startHeartbeat();
      await new Promise<void>((done) => {
        const stop = (): void => {
          runner.stop();
          done();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
