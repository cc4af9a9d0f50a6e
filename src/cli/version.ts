// Baton's version, read from package.json on first use.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function batonVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return cached;
}
