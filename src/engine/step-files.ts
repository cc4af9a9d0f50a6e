// What steps hand to each other and to the task result through files: outputs (BATON_OUTPUT),
// exported env (BATON_ENV) and PATH additions (BATON_PATH), read after each step. (BATON_MASK: mask-feed.ts.)
// A Harness-dialect task's OUTPUT_FILE files (harness-outputs.ts) are read after BATON_OUTPUT and give outputs
// the same way; a name both give with different values is an error.

import { AppendedReader, parseAssignments, parsePathLines } from './command-files.ts';
import { readHarnessOutputs } from './harness-outputs.ts';
import { errorText, type WorkDir } from './work-dir.ts';
import { DEFAULT_WORKFLOW_LIMITS, formatBytes } from '../workflow/limits.ts';

export class StepFiles {
  readonly exported = new Map<string, string>();
  /** Most recently added first, as GitHub Actions prepends each GITHUB_PATH line. */
  readonly paths: string[] = [];
  #outputs = new Map<string, string>();
  #output: AppendedReader;
  #env: AppendedReader;
  #path: AppendedReader;
  #harnessOutputFile: string | undefined;

  /** Bytes of one output or BATON_ENV value: each may become a variable of a step or of an importing task. */
  readonly maxValueBytes: number;

  constructor(dir: WorkDir, maxValueBytes = DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes) {
    this.maxValueBytes = maxValueBytes;
    this.#output = new AppendedReader(dir.outputFile);
    this.#env = new AppendedReader(dir.envFile);
    this.#path = new AppendedReader(dir.pathFile);
    this.#harnessOutputFile = dir.harnessOutputFile;
  }

  /**
   * Reads what step `stepName` appended: its outputs, and a sentence naming the file and line on a
   * problem (outputs before the bad line are kept).
   */
  async collect(stepName: string): Promise<{ outputs: Record<string, string>; problem?: string }> {
    const stepOutputs = new Map<string, string>();
    const result = (problem: string | undefined) => ({
      outputs: Object.fromEntries(stepOutputs),
      ...(problem === undefined ? {} : { problem }),
    });
    try {
      const problem =
        (await this.#assignments(this.#output, 'BATON_OUTPUT', stepName, this.#outputs, stepOutputs)) ??
        (await this.#assignments(this.#env, 'BATON_ENV', stepName, this.exported)) ??
        this.#harness(stepName, stepOutputs);
      const added = parsePathLines((await this.#path.next()).text);
      for (const dir of added) {
        const existing = this.paths.indexOf(dir);
        if (existing >= 0) this.paths.splice(existing, 1);
        this.paths.unshift(dir);
      }
      return result(problem);
    } catch (error) {
      // The files are in Baton's own dir; a step that deleted or replaced them by a directory lands here.
      return result(`step '${stepName}' left a command file unreadable: ${errorText(error)}`);
    }
  }

  outputs(): Record<string, string> {
    return Object.fromEntries(this.#outputs);
  }

  /** The OUTPUT_FILE files, read whole (a task may rewrite them with `>`), into this step's outputs. */
  #harness(stepName: string, stepOutputs: Map<string, string>): string | undefined {
    if (this.#harnessOutputFile === undefined) return undefined;
    const read = readHarnessOutputs(this.#harnessOutputFile);
    for (const [name, { value, file }] of read.values) {
      const given = stepOutputs.get(name);
      if (given !== undefined && given !== value)
        return `step '${stepName}' wrote output '${name}' with different values to BATON_OUTPUT and ${file}; write each output once`;
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > this.maxValueBytes)
        return `step '${stepName}' wrote '${name}' of ${bytes} bytes to ${file}; the limit is ${formatBytes(this.maxValueBytes)} per value (values become environment variables)`;
      this.#outputs.set(name, value);
      stepOutputs.set(name, value);
    }
    return read.problem === undefined ? undefined : `step '${stepName}': ${read.problem}`;
  }

  async #assignments(
    reader: AppendedReader,
    variable: string,
    stepName: string,
    into: Map<string, string>,
    also?: Map<string, string>,
  ): Promise<string | undefined> {
    const { text, firstLine } = await reader.next();
    const parsed = parseAssignments(text, firstLine);
    for (const [name, value] of parsed.values) {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > this.maxValueBytes)
        return `step '${stepName}' wrote '${name}' of ${bytes} bytes to ${variable}; the limit is ${formatBytes(this.maxValueBytes)} per value (values become environment variables)`;
      into.set(name, value);
      also?.set(name, value);
    }
    if (parsed.error === undefined) return undefined;
    return `step '${stepName}' wrote an invalid ${variable} file (${reader.path}), line ${parsed.error.line}: ${parsed.error.message}`;
  }
}
