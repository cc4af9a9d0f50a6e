#!/usr/bin/env node
// The `baton` command. Node ≥ 22.18 runs the TypeScript sources directly (type stripping); a built
// package (npm run build) runs dist/ instead.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
