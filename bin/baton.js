#!/usr/bin/env node
// The `baton` command. Node ≥ 22.18 runs the TypeScript sources directly (type stripping); a package
// published without src/ runs the compiled dist/ (npm run build) instead.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Checked before anything else loads, so an old Node gets this sentence instead of a syntax or loader error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `baton: needs Node.js 22.18 or later (24 recommended); this is ${process.version} at ${process.execPath}.\n` +
      'Put a newer node first on PATH, e.g. `npm install -g --prefix /opt/baton node@24` and add /opt/baton/bin ' +
      'to PATH (README, "Installing a runner").\n',
  );
  process.exit(1);
}

// Cache compiled code on disk between invocations: runners and tests start many short-lived processes.
module.enableCompileCache?.();
const fromSources = existsSync(new URL('../src/cli/main.ts', import.meta.url));
const code = (path) =>
  new URL(fromSources ? `../src/${path}.ts` : `../dist/${path}.js`, import.meta.url).href;

// `baton runner start` is long-lived and streams logs: it runs with heap settings V8 only takes before its heap
// exists, so this process replaces itself (same pid, same stdio) with one started with them, unless the user
// set them (docs/adr/0020-runner-heap-and-log-backpressure.md). One more node start, for this command only.
if (process.argv[2] === 'runner' && process.argv[3] === 'start' && typeof process.execve === 'function') {
  const { missingHeapFlags } = await import(code('runner/heap-flags'));
  const missing = missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length > 0) {
    try {
      process.execve(process.execPath, [
        process.execPath,
        ...process.execArgv,
        ...missing,
        ...process.argv.slice(1),
      ]);
    } catch (error) {
      // execve(2) refused (it leaves this process as it was): run with V8's defaults rather than not at all.
      process.stderr.write(`baton: running without the runner's heap settings: ${error.message}\n`);
    }
  }
}

await import(code('cli/main'));
