// A runner's drivers directory: each executable `<type>` or `<type>.cgi` (a symlink is followed) handles tasks
// of that custom type over CGI/1.1 (run-driver.ts, docs/drivers.md).

import { createHash } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { customTypeProblem, DRIVERS_MAX } from '../protocol/task-types.ts';
import type { Driver } from './types.ts';

export interface FoundDrivers {
  drivers: Map<string, Driver>;
  /** Entries that are not drivers, and why (shown once when the runner starts). */
  skipped: string[];
}

/**
 * Reads `dir` once. Throws when it cannot be read (a mistyped path must stop the runner, not leave it without
 * its drivers). A name given both as `<type>` and `<type>.cgi` is taken without the suffix.
 */
export function findDrivers(dir: string): FoundDrivers {
  const root = resolve(dir);
  const names = readdirSync(root).sort();
  const drivers = new Map<string, Driver>();
  const skipped: string[] = [];
  for (const name of names) {
    const type = name.endsWith('.cgi') ? name.slice(0, -'.cgi'.length) : name;
    const path = join(root, name);
    const problem = customTypeProblem(type);
    if (problem !== undefined) {
      skipped.push(`${name}: the type ${problem}`);
      continue;
    }
    let real: string;
    try {
      real = realpathSync(path);
      if (!statSync(real).isFile()) throw new Error('not a regular file');
      accessSync(real, constants.X_OK);
    } catch (error) {
      skipped.push(`${name}: not an executable file (${(error as Error).message})`);
      continue;
    }
    if (drivers.has(type) && name.endsWith('.cgi')) {
      skipped.push(`${name}: '${type}' is already a driver`);
      continue;
    }
    if (drivers.size >= DRIVERS_MAX && !drivers.has(type)) {
      skipped.push(`${name}: a runner advertises at most ${DRIVERS_MAX} drivers`);
      continue;
    }
    drivers.set(type, { type, path, version: driverVersion(real) });
  }
  return { drivers, skipped };
}

/** `sha256:<hex>` of the executable's bytes: a changed driver is a new version (for cached results). */
export function driverVersion(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}
