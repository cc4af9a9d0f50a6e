// A dotenv file given on the command line (`--secret-file`, `--var-file`): NAME=value lines as the runner's `.env` reads them
// (runner/env-file.ts), but a line that is not one is an error naming it instead of being skipped — a secret
// silently missing would fail the run much later, far from the typo.
import { readFileSync } from 'node:fs';
import { parseEnvFile } from '../runner/env-file.ts';

/** The most a dotenv file given on the command line may hold. */
export const DOTENV_MAX_BYTES = 1024 * 1024;

export function readDotenv(path: string): Record<string, string> {
  const text = readFileSync(path);
  if (text.length > DOTENV_MAX_BYTES)
    throw new Error(`is ${text.length} bytes; the limit is ${DOTENV_MAX_BYTES} bytes`);
  return parseDotenv(text.toString('utf8'));
}

/** NAME=value lines (`#` comments and blank lines skipped); throws naming the first line that is neither. */
export function parseDotenv(text: string): Record<string, string> {
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!/^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line))
      throw new Error(
        `line ${index + 1} is not NAME=value (a name of letters, digits and _, not starting with a digit)`,
      );
  });
  return parseEnvFile(lines.join('\n'));
}
