// What several commands share: server and token from flags or BATON_SERVER / BATON_TOKEN, `--input k=v`
// parsing, reading a workflow file, and turning errors into messages and exit codes.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ApiError, createClient, type BatonClient } from '../client/index.ts';
import { toError } from '../protocol/errors.ts';
import { readSource } from '../workflow/source.ts';
import type { Command } from 'commander';
import type { Out } from './output.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error that already carries what to print and the exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface ConnectionFlags {
  server?: string;
  token?: string;
}

export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): BatonClient {
  const server = flags.server ?? env.BATON_SERVER;
  if (!server)
    throw new CliError('no server given: pass --server URL or set BATON_SERVER (e.g. http://127.0.0.1:8480)');
  const token = flags.token ?? env.BATON_TOKEN;
  if (!token)
    throw new CliError(
      'no token given: pass --token T or set BATON_TOKEN (the admin token the server printed at first start)',
    );
  return createClient({ baseUrl: server, token, userAgent: 'baton-cli' });
}

export function collectInput(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`--input must look like name=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * The workflow file as text. Read as bytes and decoded strictly: invalid UTF-8 is refused here
 * (exit 2, with line, column and byte offset) rather than turned into U+FFFD and sent or run changed.
 */
export function readWorkflowFile(path: string): { text: string; fileName: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read workflow ${path}: ${toError(err).message}`);
  }
  const source = readSource(bytes, Number.POSITIVE_INFINITY);
  if (!source.ok)
    throw new CliError(`${path}:${source.issue.line}:${source.issue.column}: ${source.issue.message}`);
  return { text: source.text, fileName: basename(path) };
}

interface IssueLike {
  message: string;
  line: number;
  column: number;
}

export function formatIssues(file: string, issues: IssueLike[]): string {
  return issues.map((i) => `${file}:${i.line}:${i.column}: ${i.message}`).join('\n') + '\n';
}

/** Lint warnings: `file:line:col: warning: message`, one a line. */
export function formatWarnings(file: string, warnings: IssueLike[]): string {
  return warnings.map((w) => `${file}:${w.line}:${w.column}: warning: ${w.message}`).join('\n') + '\n';
}

/** Prints an error the way a person can act on it and returns the exit code. */
export function reportError(err: unknown, out: Out, o: { file?: string; json?: boolean } = {}): number {
  if (err instanceof CliError) {
    out.err(`baton: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof ApiError) {
    const issues = err.details.issues as IssueLike[] | undefined;
    if (o.json)
      out.write(
        JSON.stringify({ error: { code: err.code, message: err.message, ...err.details } }, null, 2) + '\n',
      );
    else if (issues && issues.length > 0)
      out.err(formatIssues(o.file ?? 'workflow', issues) + `baton: ${err.message}\n`);
    else out.err(`baton: ${err.message} (${err.code})\n`);
    return err.code === 'invalid_workflow' || err.code === 'invalid_inputs' || err.status === 400
      ? EXIT.usage
      : EXIT.failed;
  }
  out.err(`baton: ${toError(err).message}\n`);
  return EXIT.failed;
}

/** Adds the options every server-talking command has: --server, --token, --json. */
export function withConnection(c: Command, tokenKind = 'user'): Command {
  return c
    .option('--server <url>', 'server URL (BATON_SERVER)')
    .option('--token <token>', `${tokenKind} token (BATON_TOKEN)`)
    .option('--json', 'print JSON');
}

/** Runs a command body and turns its result or error into the exit code (errors printed for people or as JSON). */
export function guarded(out: Out, setExit: (code: number) => void) {
  return (fn: () => Promise<number | void>, json?: boolean): Promise<void> =>
    fn().then(
      (code) => setExit(code ?? 0),
      (err: unknown) => setExit(reportError(err, out, { json })),
    );
}
