// The UI's only way to the server: same-origin fetch with the session cookie, errors as ApiError.
import type { RunResult, RunSummary, RunnerDetail, RunnerTask, RunnerView } from '../../src/protocol/api.ts';

export type { RunResult, RunSummary, RunnerDetail, RunnerTask, RunnerView };
export { RUN_NAME_FILTER_MAX_CHARS } from '../../src/protocol/limits.ts';
export type TaskResult = RunResult['results'][string];

/** A problem in a submitted workflow, at its line and column (the 422 answer's `issues[]`). */
export interface Issue {
  message: string;
  line?: number;
  column?: number;
  path?: string;
  code?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: Issue[];
  constructor(status: number, code: string, message: string, issues: Issue[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}

let onSignedOut: () => void = () => {};
/** Called when any request answers 401: the session ended (signed out, token revoked or expired). */
export function setSignedOutHandler(f: () => void): void {
  onSignedOut = f;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let code = 'http_' + res.status;
    let message = `${method} ${path} failed with HTTP ${res.status}`;
    let issues: Issue[] = [];
    try {
      const env = (await res.json()) as {
        error?: string | { code?: string; message?: string; issues?: Issue[] };
        code?: string;
      };
      if (typeof env.error === 'string') {
        // The Automn-compatible routes (/api/settings/runner-hosts) answer upstream's `{error, code?}`.
        message = env.error;
        code = env.code ?? code;
      } else {
        code = env.error?.code ?? code;
        message = env.error?.message ?? message;
        issues = env.error?.issues ?? [];
      }
    } catch {
      // Not the JSON envelope (a proxy's page, say): keep the HTTP status as the message.
    }
    if (res.status === 401 && path !== '/api/v1/session') onSignedOut();
    throw new ApiError(res.status, code, message, issues);
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const enc = encodeURIComponent;

export interface Session {
  signedIn: true;
  name: string | null;
  scope: 'admin' | 'submit' | 'read';
}

export interface Artifact {
  id: string;
  task: string;
  name: string;
  attempt: number;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
}

/** Why a task waits (GET …/tasks/:task/pending): one reason code per runner, with a sentence. */
export type { PendingExplanation, PendingReason } from '../../src/protocol/api.ts';

import type { PushRunnerHost } from '../../src/protocol/push-runners.ts';
export type { PushRunnerHost };

export interface PushRunnerList {
  runnerHosts: PushRunnerHost[];
  heartbeatWindowMs: number;
  /** Baton's extension: each entry's labels, by id. */
  labels?: Record<string, string[]>;
}
