#!/usr/bin/env node
// The `baton` command. Node ≥ 22.18 runs the TypeScript sources directly (type stripping); a package
// published without src/ runs the compiled dist/ (npm run build) instead.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Cache compiled code on disk between invocations: runners and tests start many short-lived processes.
module.enableCompileCache?.();
const source = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
