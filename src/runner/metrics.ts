// A runner's Prometheus metrics (`baton runner start --metrics-addr HOST:PORT`): read from the agent at scrape
// time, served on a listener of their own without authentication (bind it to loopback or a private address).
// Labels are bounded: the outcome is one of the reported statuses or `lost`.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Agent } from './agent.ts';

export const RUNNER_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'lost'] as const;

export function runnerRegistry(agent: Agent): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'baton_runner_slots',
    help: 'Task slots of this runner (max_parallel_tasks)',
    registers: [registry],
    collect() {
      this.set(agent.maxParallelTasks);
    },
  });
  new Gauge({
    name: 'baton_runner_slots_busy',
    help: 'Slots busy with a task, its upload or the delivery of its result',
    registers: [registry],
    collect() {
      this.set(agent.busySlots);
    },
  });
  // The agent keeps the tally; at each scrape the counter catches up with it (it only ever goes up).
  const counted = new Map<string, number>();
  new Counter({
    name: 'baton_runner_tasks_total',
    help: 'Tasks this runner process ended, by outcome (lost: the server gave the task to another attempt)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const outcome of RUNNER_OUTCOMES) {
        const now = agent.outcomes.get(outcome) ?? 0;
        this.inc({ outcome }, now - (counted.get(outcome) ?? 0));
        counted.set(outcome, now);
      }
    },
  });
  new Gauge({
    name: 'baton_runner_log_unacknowledged_bytes',
    help: 'Log bytes of running tasks written but not yet acknowledged by the server (log shipping lag)',
    registers: [registry],
    collect() {
      this.set(agent.unacknowledgedLogBytes);
    },
  });
  new Gauge({
    name: 'baton_runner_spool_bytes',
    help: 'Bytes in the runner spool on disk (logs and results waiting for the server)',
    registers: [registry],
    collect() {
      this.set(agent.spoolBytes());
    },
  });
  return registry;
}

export async function serveRunnerMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
