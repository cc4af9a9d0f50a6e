// GitHub's rule for job ids ("Workflow syntax", jobs.<job_id>): letters, digits, `-` and `_`, starting with a
// letter or `_`. Baton's own task names also allow `.` and a leading digit; a GitHub workflow keeps GitHub's rule.

import type { Pos } from './issues.ts';
import type { NodeReader } from './node-reader.ts';

export const GITHUB_JOB_ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** True when `id` follows GitHub's rule; otherwise reports the id, where it is and the rule. */
export function checkJobId(reader: NodeReader, id: string, at: Pos, path: string): boolean {
  if (GITHUB_JOB_ID.test(id)) return true;
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  const message = `job id '${shown}' is not valid; a job id must start with a letter or _ and contain only letters, digits, - and _ (GitHub's rule)`;
  reader.report('invalid_name', message, at, path);
  return false;
}
