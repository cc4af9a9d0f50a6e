// Values that become masked while a task runs: lines a step appends to its BATON_MASK file, and the
// values of the task's confidential outputs as a step writes them to BATON_OUTPUT (or, in a Harness-dialect
// task, to its OUTPUT_FILE files: harness-outputs.ts).
//
// A file cannot announce a write, so both files are read before each piece of the step's output is masked
// (a value written before it is printed is then always known in time: program order), polled every
// MASK_POLL_MS while the step is quiet, and read once more when it ends. Only a value a step's *other*
// process writes concurrently with printing it can slip through.

import { parseAssignments, AppendedReader } from './command-files.ts';
import { readHarnessOutputs } from './harness-outputs.ts';
import type { Masker } from './masker.ts';
import { errorText, type WorkDir } from './work-dir.ts';

/** 100 ms: short against a human reading the log, long against the cost of two small reads. */
export const MASK_POLL_MS = 100;

/** Output text a step appended beyond this is not parsed while it runs (only once it ends). */
const MAX_LIVE_OUTPUT_CHARS = 1024 * 1024;

export class MaskFeed {
  #masker: Masker;
  #confidential: ReadonlySet<string>;
  #maskReader: AppendedReader;
  #outputReader: AppendedReader;
  #harnessOutputFile: string | undefined;
  #outputFile: string;
  /** An incomplete last line of the mask file, kept until its newline (or the step's end). */
  #partial = '';
  /** What the running step appended to BATON_OUTPUT so far. */
  #stepOutput = '';
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();
  #warn: (text: string) => void;
  #warned = false;

  constructor(dir: WorkDir, confidential: readonly string[], masker: Masker, warn: (text: string) => void) {
    this.#masker = masker;
    this.#confidential = new Set(confidential);
    this.#maskReader = new AppendedReader(dir.maskFile);
    this.#outputFile = dir.outputFile;
    this.#outputReader = new AppendedReader(dir.outputFile);
    this.#harnessOutputFile = dir.harnessOutputFile;
    this.#warn = warn;
  }

  /** Starts polling for a step that is starting. */
  start(): void {
    this.#stepOutput = '';
    // Each step starts with an empty output file (StepFiles.prepare): read it from its start.
    this.#outputReader = new AppendedReader(this.#outputFile);
    this.#timer = setInterval(() => {
      this.#reading = this.#reading.then(() => this.#read(false));
    }, MASK_POLL_MS);
  }

  /** Stops polling and reads both files to their end (the last line of the mask file even without newline). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#reading = this.#reading.then(() => this.#read(true));
    await this.#reading;
  }

  /** Reads what the running step appended to both files so far; called before each piece of its output. */
  catchUp(): void {
    if (this.#timer !== undefined) this.#readSync(false);
  }

  /** Masks the value of each confidential output in `outputs`. */
  addOutputs(outputs: Record<string, string>): void {
    for (const [name, value] of Object.entries(outputs))
      if (this.#confidential.has(name)) this.#masker.add(value);
  }

  async #read(final: boolean): Promise<void> {
    this.#readSync(final);
  }

  #readSync(final: boolean): void {
    try {
      const lines = (this.#partial + this.#maskReader.nextSync().text).split('\n');
      this.#partial = final ? '' : (lines.pop() ?? '');
      for (const line of lines) this.#masker.add(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (this.#confidential.size === 0) return;
      if (this.#harnessOutputFile !== undefined) {
        // Read whole each time (the sample rewrites them with `>`); a half-written last line is not a value yet.
        const read = readHarnessOutputs(this.#harnessOutputFile);
        for (const [name, { value }] of read.values)
          if (this.#confidential.has(name) && (final || value !== '')) this.#masker.add(value);
      }
      const appended = this.#outputReader.nextSync().text;
      if (this.#stepOutput.length > MAX_LIVE_OUTPUT_CHARS) return;
      this.#stepOutput += appended;
      // Complete lines only, so a value caught mid-write is not masked as its prefix. An open heredoc
      // parses as an error; the values before it are still good.
      const text = this.#stepOutput;
      const complete = final ? text : text.slice(0, text.lastIndexOf('\n') + 1);
      this.addOutputs(Object.fromEntries(parseAssignments(complete).values));
      if (final) this.#stepOutput = '';
    } catch (error) {
      // A step that removed or replaced its BATON_MASK file: say so once; masking goes on with what it has.
      if (!this.#warned) this.#warn(`could not read the mask or output file: ${errorText(error)}`);
      this.#warned = true;
    }
  }
}
