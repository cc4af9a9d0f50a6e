// The version of the driver that runs a task type on this runner: part of a task's derived cache key, so a new
// driver does not reuse results an older one produced. For `exec` and the built-in types the driver is Baton
// itself; a custom (CGI) driver's is the hash of its executable the runner advertises (engine/drivers.ts).
import { readFileSync } from 'node:fs';

let baton: string | undefined;

/** Baton's package version, read once. */
function batonVersion(): string {
  baton ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return baton;
}

export function driverVersion(type: string, drivers?: ReadonlyMap<string, { version: string }>): string {
  return drivers?.get(type)?.version ?? `baton/${batonVersion()}`;
}
