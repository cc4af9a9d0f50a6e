// The version of the driver that runs a task type on this runner: part of a task's derived cache key, so a new
// driver does not reuse results an older one produced. For `exec` and the built-in types the driver is Baton
// itself. Custom (CGI) drivers will feed their own advertised version in here.
import { readFileSync } from 'node:fs';

let baton: string | undefined;

/** Baton's package version, read once. */
function batonVersion(): string {
  baton ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return baton;
}

export function driverVersion(_type: string): string {
  return `baton/${batonVersion()}`;
}
