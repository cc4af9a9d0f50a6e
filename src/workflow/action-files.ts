// What a GitHub step's `uses:` names (a local action, actions/checkout, another repository's action or a Docker
// image), and the action files a client sends with a workflow: the server has no checkout to read them from.

/**
 * The `action.yml` (or `action.yaml`) of each local action the workflow uses, nested ones included, keyed by the
 * action's directory relative to the repository root, without `./` (`.github/actions/hello`).
 */
export type ActionFiles = Record<string, { file: string; text: string }>;

/** At most this many action files travel with one workflow. */
export const MAX_ACTION_FILES = 100;
/** Each action file is at most this many bytes (256 KiB: real action.yml files are a few KiB). */
export const MAX_ACTION_FILE_BYTES = 256 * 1024;
/** Composite actions nest at most this deep (GitHub's limit: an action using an action … 10 levels). */
export const MAX_ACTION_DEPTH = 10;

export type UsesTarget =
  | { kind: 'local'; dir: string }
  | { kind: 'checkout'; ref: string }
  | { kind: 'docker'; image: string }
  | { kind: 'remote'; name: string; ref: string }
  | { kind: 'invalid'; reason: string };

/** Reads a `uses:` value as GitHub does: `./path`, `docker://image`, or `owner/repo[/path]@ref`. */
export function parseUses(value: string): UsesTarget {
  if (value.startsWith('./') || value === '.') {
    const dir = localActionDir(value);
    return typeof dir === 'string' ? { kind: 'local', dir } : { kind: 'invalid', reason: dir.reason };
  }
  if (value.startsWith('docker://')) return { kind: 'docker', image: value.slice('docker://'.length) };
  const at = value.lastIndexOf('@');
  const name = at < 0 ? value : value.slice(0, at);
  const ref = at < 0 ? '' : value.slice(at + 1);
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[^@]+)?$/.test(name) || ref === '')
    return {
      kind: 'invalid',
      reason: "write './path/to/action' for an action in this repository, or 'owner/repo@ref'",
    };
  if (name.toLowerCase() === 'actions/checkout') return { kind: 'checkout', ref };
  return { kind: 'remote', name, ref };
}

/** `./a/b/` → `a/b`; `./` → ``. A path leaving the repository (`..`) is refused. */
export function localActionDir(value: string): string | { reason: string } {
  const parts: string[] = [];
  for (const part of value.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' || part.includes('\\') || part.includes('\0'))
      return { reason: `the path '${value}' leaves the repository or is not a plain relative path` };
    parts.push(part);
  }
  return parts.join('/');
}
