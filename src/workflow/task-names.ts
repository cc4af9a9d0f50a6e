// Task names as every dialect reads them: valid, unique, and not more tasks than the limit.

import type { Pos } from './issues.ts';
import type { WorkflowLimits } from './limits.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { MAX_TASK_NAME_LENGTH, TASK_NAME } from './static-values.ts';

export class TaskNames {
  readonly #reader: NodeReader;
  readonly #firstSeen = new Map<string, Pos>();

  constructor(reader: NodeReader) {
    this.#reader = reader;
  }

  /** True for a valid name not seen before; otherwise reports why and returns false. */
  accept(name: string, at: Pos, path: string): boolean {
    if (name.length > MAX_TASK_NAME_LENGTH || !TASK_NAME.test(name)) {
      const shown =
        name.length > MAX_TASK_NAME_LENGTH
          ? `${name.slice(0, 40)}…' (${name.length} characters)`
          : `${name}'`;
      const message = `task name '${shown} is not valid; use letters, digits, _, . and - (not starting with . or -), at most ${MAX_TASK_NAME_LENGTH} characters`;
      this.#reader.report('invalid_name', message, at, path);
      return false;
    }
    const first = this.#firstSeen.get(name);
    if (first !== undefined) {
      this.#reader.report(
        'duplicate_task',
        `task name '${name}' is used twice; the first is at line ${first.line}`,
        at,
        path,
      );
      return false;
    }
    this.#firstSeen.set(name, at);
    return true;
  }
}

/** False (with an issue) when the collection of tasks is empty or longer than the task limit. */
export function checkTaskCount(
  reader: NodeReader,
  loc: Located,
  count: number,
  limits: WorkflowLimits,
  what: string,
): boolean {
  if (count > limits.maxTasks) {
    reader.report(
      'limit_exceeded',
      `workflow has ${count} tasks; the limit is ${limits.maxTasks} tasks per run`,
      loc.at,
      loc.path,
    );
    return false;
  }
  if (count === 0) {
    reader.report('invalid_value', `${what} is empty; add at least one task`, loc.at, loc.path);
    return false;
  }
  return true;
}
