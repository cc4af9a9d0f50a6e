// The cost of storing log bytes on the server, per MB, by wire format and storage (issue 20,
// docs/adr/0021-log-bytes.md): a real `baton server` process, a client in this process doing what the runner's
// shipper does (10 chunks of 100 KiB per call, one call at a time), CPU time of both read from /proc and
// process.cpuUsage (less sensitive to a loaded machine than wall time, which is printed too).
//
//   node bench/log-upload.ts [--mode bytes|json] [--mb 50] [--baton bin/baton.js] [--cpu-prof DIR]
//     [--chunks-per-call 10] [--chunk-bytes 102400] [--task-bytes 12500000]
//
// --baton runs another checkout's server (e.g. the commit before the change, which knows only --mode json).
// A step that trickles its log (a line now and then) sends one small chunk per call, tens of thousands in one
// task: `--chunks-per-call 1 --chunk-bytes 200 --task-bytes 4000000 --mb 4` is 20,000 such calls.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '../src/client/index.ts';
import type { LogFrame } from '../src/protocol/log-frames.ts';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'bytes' },
    mb: { type: 'string', default: '50' },
    baton: { type: 'string', default: join(import.meta.dirname, '..', 'bin', 'baton.js') },
    // The server under `node --cpu-prof`, its profile written to DIR when it stops.
    'cpu-prof': { type: 'string' },
    // Chunks of 100 KiB per call: 10 as a fast step's shipper sends them, fewer to see the per-call cost.
    'chunks-per-call': { type: 'string', default: '10' },
    // Bytes per chunk (the shipper's full chunk by default) and per task (a multiple of 100, under the 16 MiB cap).
    'chunk-bytes': { type: 'string', default: String(100 * 1024) },
    'task-bytes': { type: 'string', default: '12500000' },
  },
});
const CHUNK_BYTES = Number(args['chunk-bytes']);
const BATCH_CHUNKS = Number(args['chunks-per-call']);
const TASK_BYTES = Number(args['task-bytes']);
if (!(TASK_BYTES > 0 && TASK_BYTES % 100 === 0 && TASK_BYTES <= 16 * 1024 * 1024))
  throw new Error(
    `--task-bytes ${args['task-bytes']}: a multiple of 100, at most 16 MiB (the log cap per task)`,
  );
if (!(CHUNK_BYTES > 0 && CHUNK_BYTES <= 100 * 1024))
  throw new Error(`--chunk-bytes ${args['chunk-bytes']}: 1 to 102400 (the server's limit per chunk)`);
const totalBytes = Number(args.mb) * 1_000_000;
const tasks = Math.ceil(totalBytes / TASK_BYTES);

const line = (i: number) => `${String(i).padStart(8, '0')} ${'x'.repeat(90)}\n`;
const text = Array.from({ length: TASK_BYTES / 100 }, (_, i) => line(i)).join('');
const log = Buffer.from(text, 'utf8');

/** utime + stime of a process, in ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const dir = mkdtempSync(join(tmpdir(), 'baton-log-upload-'));
const adminToken = `baton_u_${'a'.repeat(43)}`;
const registrationToken = `baton_r_${'b'.repeat(43)}`;
const server = spawn(
  process.execPath,
  [
    ...(args['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']]),
    args.baton,
    'server',
    '--port',
    '0',
    '--data-dir',
    dir,
    '--log-level',
    'warn',
  ],
  {
    env: {
      ...process.env,
      BATON_ADMIN_TOKEN: adminToken,
      BATON_RUNNER_REGISTRATION_TOKEN: registrationToken,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const seen = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    server.stdout.on('data', seen);
    server.stderr.on('data', seen);
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  const admin = createClient({ baseUrl: url, token: adminToken });
  const reg = await admin.register(registrationToken, {
    name: 'bench',
    labels: [],
    capacity: 1,
    version: 'bench',
  });
  const runner = createClient({ baseUrl: url, token: reg.token });
  const workflow = `tasks:\n${Array.from({ length: tasks }, (_, k) => `  t${k}: { run: "true" }`).join('\n')}\n`;
  const run = await admin.submitRun(workflow);
  let serverCpu = 0;
  let clientCpu = 0;
  let wallMs = 0;
  for (let k = 0; k < tasks; k++) {
    const offer = (await runner.acquire(1, 5_000))!;
    await runner.start(offer.lease);
    const s0 = cpuMsOf(server.pid!);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let seq = 0, at = 0; at < log.length;) {
      const frames: LogFrame[] = [];
      for (let n = 0; n < BATCH_CHUNKS && at < log.length; n++, seq++) {
        const bytes = log.subarray(at, Math.min(log.length, at + CHUNK_BYTES));
        frames.push({ attempt: offer.task.attempt, seq, offset: at, bytes });
        at += bytes.length;
      }
      // JSON: what the runner did before — the spooled bytes read back as text and sent in a JSON body.
      if (args.mode === 'json')
        await runner.sendLogs(
          offer.lease,
          frames.map((f) => ({ seq: f.seq, offset: f.offset, data: f.bytes.toString('utf8') })),
        );
      else await runner.sendLogBytes(offer.lease, frames);
    }
    wallMs += performance.now() - t0;
    const c = process.cpuUsage(c0);
    clientCpu += (c.user + c.system) / 1000;
    serverCpu += cpuMsOf(server.pid!) - s0;
    await runner.complete(offer.lease, {
      status: 'succeeded',
      exitCode: 0,
      outputs: {},
      steps: [],
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    });
    if ((await admin.taskLog(run.id, `t${k}`)) !== text)
      throw new Error(`task t${k}: the stored log differs`);
  }
  const mb = (tasks * log.length) / 1e6;
  console.log(
    `${args.mode} via ${args.baton}: ${mb} MB; server CPU ${(serverCpu / mb).toFixed(1)} ms/MB, client CPU ${(clientCpu / mb).toFixed(1)} ms/MB, wall ${(wallMs / mb).toFixed(1)} ms/MB`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
