// What the Push runners page tells the operator to run: `baton runner serve` for a new entry, and the runner's
// `/internal/reset` call after a rotation (seed 002's "Planned rotation"). The secret never goes into argv.
import { shellWord } from './register-command.ts';

/** Where the operator's runner is, until it registers: a placeholder they replace. */
export const RUNNER_PLACEHOLDER = 'http://runner-host:3030';

/** The runner's own base URL (its `/`, `/status`, `/internal/reset`), from the `/api/run` endpoint it registered. */
export function runnerBaseUrl(endpoint: string | null): string {
  if (!endpoint) return RUNNER_PLACEHOLDER;
  try {
    const u = new URL(endpoint);
    const path = u.pathname.replace(/\/api\/run\/?$/, '').replace(/\/+$/, '');
    return `${u.origin}${path}`;
  } catch {
    return RUNNER_PLACEHOLDER;
  }
}

/** `baton runner serve` with the settings that tie it to this entry; the secret is typed into its `/` page or set in its environment. */
export function serveCommand(origin: string, id: string): string {
  return [
    `AUTOMN_HOST_URL=${shellWord(origin)} \\`,
    `AUTOMN_RUNNER_ID=${shellWord(id)} \\`,
    `AUTOMN_RUNNER_PUBLIC_URL=${RUNNER_PLACEHOLDER} \\`,
    'AUTOMN_RUNNER_DATA_DIR=/var/lib/baton-serve \\',
    'baton runner serve',
  ].join('\n');
}

/** The runner's `POST /internal/reset` with the new secret, the body on stdin (a heredoc) rather than in argv. */
export function resetCommand(runnerBase: string, secret: string): string {
  return [
    `curl -fsS -X POST ${shellWord(`${runnerBase}/internal/reset`)} \\`,
    "  -H 'content-type: application/json' --data-binary @- <<'JSON'",
    `{"token": "<AUTOMN_RUNNER_RESET_TOKEN>", "secret": ${JSON.stringify(secret)}}`,
    'JSON',
  ].join('\n');
}

/** Labels as typed ("linux, x64,,gpu"): trimmed, empty ones dropped. */
export function parseLabels(text: string): string[] {
  return text
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
}
