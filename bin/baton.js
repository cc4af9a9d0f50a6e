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
const source = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
