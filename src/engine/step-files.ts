// What steps hand to each other and to the task result through files: outputs (BATON_OUTPUT),
// exported env (BATON_ENV), PATH additions (BATON_PATH), state for a post step (GITHUB_STATE) and the step
// summary (GITHUB_STEP_SUMMARY), each emptied before a step (`prepare`) and read whole after it, so every step
// has fresh files as on GitHub. (BATON_MASK: mask-feed.ts.)
// A Harness-dialect task's OUTPUT_FILE files (harness-outputs.ts) are read after BATON_OUTPUT and give outputs
// the same way; a name both give with different values is an error.

import {
  commandFileSize,
  parseAssignments,
  parsePathLines,
  readCommandFile,
  resetCommandFiles,
} from './command-files.ts';
import { readHarnessOutputs } from './harness-outputs.ts';
import { errorText, perStepFiles, type WorkDir } from './work-dir.ts';
import {
  STEP_SUMMARY_MAX_BYTES,
  TASK_SUMMARY_MAX_BYTES,
  type StepSummary,
} from '../protocol/annotation-limits.ts';
import { DEFAULT_WORKFLOW_LIMITS, formatBytes } from '../workflow/limits.ts';

export class StepFiles {
  readonly exported = new Map<string, string>();
  /** Most recently added first, as GitHub Actions prepends each GITHUB_PATH line. */
  readonly paths: string[] = [];
  /**
   * State each step saved (GITHUB_STATE, ::save-state::), by step index: the API for post steps, which get it as
   * STATE_<name> variables (stateEnv).
   */
  readonly states = new Map<number, Record<string, string>>();
  /** The Markdown each step wrote to GITHUB_STEP_SUMMARY, in step order; empty ones are left out. */
  readonly summaries: StepSummary[] = [];
  #outputs = new Map<string, string>();
  #dir: WorkDir;
  #harnessOutputFile: string | undefined;
  #summaryBytes = 0;

  /** Bytes of one output or BATON_ENV value: each may become a variable of a step or of an importing task. */
  readonly maxValueBytes: number;

  constructor(dir: WorkDir, maxValueBytes = DEFAULT_WORKFLOW_LIMITS.maxEnvValueBytes) {
    this.maxValueBytes = maxValueBytes;
    this.#dir = dir;
    this.#harnessOutputFile = dir.harnessOutputFile;
  }

  /** Empties the per-step files: called before each step starts. */
  async prepare(): Promise<void> {
    await resetCommandFiles(perStepFiles(this.#dir));
  }

  /** STATE_<name> variables for the post step of step `index` (GitHub: state is read by the same action's post). */
  stateEnv(index: number): Record<string, string> {
    const state = this.states.get(index) ?? {};
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v]));
  }

  /** Values a step set some other way (::set-output::): its outputs as if written to BATON_OUTPUT. */
  addOutputs(values: Record<string, string>): void {
    for (const [name, value] of Object.entries(values)) this.#outputs.set(name, value);
  }

  /** Adds a directory to PATH for later steps (BATON_PATH, ::add-path::). */
  addPath(dir: string): void {
    const existing = this.paths.indexOf(dir);
    if (existing >= 0) this.paths.splice(existing, 1);
    this.paths.unshift(dir);
  }

  /**
   * Reads the step summary: at most STEP_SUMMARY_MAX_BYTES per step (GitHub's 1 MiB) and
   * TASK_SUMMARY_MAX_BYTES for the task; a larger one is not kept and the answer says why (a warning, as on
   * GitHub the step does not fail).
   */
  async collectSummary(stepName: string): Promise<string | undefined> {
    try {
      const size = await commandFileSize(this.#dir.summaryFile);
      if (size === 0) return undefined;
      if (size > STEP_SUMMARY_MAX_BYTES)
        return `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of ${STEP_SUMMARY_MAX_BYTES / 1024}k, got ${Math.ceil(size / 1024)}k (step '${stepName}', limit STEP_SUMMARY_MAX_BYTES)`;
      if (this.#summaryBytes + size > TASK_SUMMARY_MAX_BYTES)
        return `the step summary of step '${stepName}' (${size} bytes) is not kept: the task's summaries would pass ${formatBytes(TASK_SUMMARY_MAX_BYTES)} (limit TASK_SUMMARY_MAX_BYTES)`;
      const markdown = await readCommandFile(this.#dir.summaryFile, STEP_SUMMARY_MAX_BYTES);
      this.#summaryBytes += size;
      this.summaries.push({ step: stepName, markdown });
      return undefined;
    } catch (error) {
      return `step '${stepName}' left its GITHUB_STEP_SUMMARY file unreadable: ${errorText(error)}`;
    }
  }

  /**
   * Reads what step `stepName` appended: its outputs, and a sentence naming the file and line on a
   * problem (outputs before the bad line are kept).
   */
  async collect(stepName: string, index = 0): Promise<{ outputs: Record<string, string>; problem?: string }> {
    const stepOutputs = new Map<string, string>();
    const result = (problem: string | undefined) => ({
      outputs: Object.fromEntries(stepOutputs),
      ...(problem === undefined ? {} : { problem }),
    });
    try {
      const state = new Map<string, string>();
      const problem =
        (await this.#assignments(
          this.#dir.outputFile,
          'BATON_OUTPUT',
          stepName,
          this.#outputs,
          stepOutputs,
        )) ??
        (await this.#assignments(this.#dir.envFile, 'BATON_ENV', stepName, this.exported)) ??
        (await this.#assignments(this.#dir.stateFile, 'GITHUB_STATE', stepName, state)) ??
        this.#harness(stepName, stepOutputs);
      if (state.size > 0) this.states.set(index, { ...this.states.get(index), ...Object.fromEntries(state) });
      for (const dir of parsePathLines(await readCommandFile(this.#dir.pathFile))) this.addPath(dir);
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
    path: string,
    variable: string,
    stepName: string,
    into: Map<string, string>,
    also?: Map<string, string>,
  ): Promise<string | undefined> {
    const parsed = parseAssignments(await readCommandFile(path));
    for (const [name, value] of parsed.values) {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > this.maxValueBytes)
        return `step '${stepName}' wrote '${name}' of ${bytes} bytes to ${variable}; the limit is ${formatBytes(this.maxValueBytes)} per value (values become environment variables)`;
      into.set(name, value);
      also?.set(name, value);
    }
    if (parsed.error === undefined) return undefined;
    return `step '${stepName}' wrote an invalid ${variable} file (${path}), line ${parsed.error.line}: ${parsed.error.message}`;
  }
}
