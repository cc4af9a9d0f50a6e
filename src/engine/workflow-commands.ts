// GitHub Actions workflow commands (`::name key=value,…::data`) on a step's stdout and stderr, parsed on the
// runner before the log is masked and shipped: docs.github.com "Workflow commands for GitHub Actions".
//
// Only in GitHub-dialect tasks (TaskSpec.githubCommands). Other dialects' users expect their output byte for
// byte (an Automn script's stdout is its result, and has its own `::stop-commands::`), and Baton takes outputs
// from files only (DESIGN.md): there every line goes on as it came.
//
// A line is held only while it may still become a command (its text so far, leading blanks aside, is `::` or
// starts with it), so ordinary output stays live; a held line longer than MAX_COMMAND_LINE_CHARS is printed as
// text. Processed commands are not printed (as on GitHub), unless echo is on; groups and annotations are
// printed as GitHub's raw log spells them (`##[group]Title`, `##[endgroup]`, `##[error]…`), which the CLI and
// the web UI fold and colour.

import {
  MAX_ANNOTATION_MESSAGE_CHARS,
  MAX_ANNOTATIONS_PER_STEP,
  MAX_ANNOTATIONS_PER_TASK,
  type Annotation,
  type AnnotationLevel,
} from '../protocol/annotation-limits.ts';
import type { MaskedStream, Masker } from './masker.ts';

/** A command line longer than this is printed as text, unparsed: 1 MiB, the most one line may hold back. */
export const MAX_COMMAND_LINE_CHARS = 1024 * 1024;
/**
 * Bytes a step may hand on through ::set-output::, ::save-state::, ::set-env:: and ::add-path:: together: the
 * limit of the files they stand for (command-files.ts MAX_COMMAND_FILE_BYTES), 16 MiB.
 */
export const MAX_COMMAND_VALUE_BYTES = 16 * 1024 * 1024;
/** Values a task may add with ::add-mask:: (each one costs the masker some needles on every later line). */
export const MAX_MASKS_PER_TASK = 1000;
export { MAX_ANNOTATIONS_PER_STEP, MAX_ANNOTATIONS_PER_TASK, MAX_ANNOTATION_MESSAGE_CHARS };
export type { Annotation, AnnotationLevel };

export interface ParsedCommand {
  command: string;
  properties: Record<string, string>;
  data: string;
}

const COMMANDS = new Set([
  'add-mask',
  'stop-commands',
  'group',
  'endgroup',
  'error',
  'warning',
  'notice',
  'debug',
  'echo',
  'set-output',
  'save-state',
  'set-env',
  'add-path',
]);
const STATE_COMMANDS = new Set(['set-output', 'save-state', 'set-env', 'add-path']);

/**
 * `::command key=value,key=value::data`, leading blanks allowed (actions/runner trims them); undefined for any
 * other line and for a command name GitHub does not know. Properties without a value are dropped.
 */
export function parseCommand(line: string): ParsedCommand | undefined {
  const text = line.trimStart();
  if (!text.startsWith('::')) return undefined;
  const end = text.indexOf('::', 2);
  if (end < 0) return undefined;
  const info = text.slice(2, end);
  const space = info.indexOf(' ');
  const command = space < 0 ? info : info.slice(0, space);
  if (!COMMANDS.has(command)) return undefined;
  const properties: Record<string, string> = {};
  if (space >= 0) {
    for (const pair of info.slice(space + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
  }
  return { command, properties, data: unescapeData(text.slice(end + 2)) };
}

/** GitHub's data escapes: %25 %, %0D CR, %0A LF (other `%` sequences stay as written). */
export function unescapeData(text: string): string {
  return text.replace(/%(25|0D|0A)/gi, (m, code: string) => DATA_ESCAPES[code.toUpperCase()] ?? m);
}

/** Property values also escape `:` (%3A) and `,` (%2C). */
export function unescapeProperty(text: string): string {
  return text.replace(/%(25|0D|0A|3A|2C)/gi, (m, code: string) => PROPERTY_ESCAPES[code.toUpperCase()] ?? m);
}

const DATA_ESCAPES: Record<string, string> = { '25': '%', '0D': '\r', '0A': '\n' };
const PROPERTY_ESCAPES: Record<string, string> = { ...DATA_ESCAPES, '3A': ':', '2C': ',' };

/** What one step's commands changed, read once the step ended (run-steps.ts). */
export interface StepCommandEffects {
  /** ::set-output:: values, the last one of a name winning. */
  outputs: Record<string, string>;
  /** ::save-state:: values, for the step's post step (STATE_<name>). */
  state: Record<string, string>;
  /** ::set-env:: values (only when the step allowed unsecure commands). */
  env: Record<string, string>;
  /** ::add-path:: directories, in the order given. */
  paths: string[];
  /** A command that could not be processed: the step fails with this sentence, as on GitHub. */
  failure?: string;
}

export interface StepCommandOptions {
  step: string;
  /** The step's environment: ACTIONS_ALLOW_UNSECURE_COMMANDS and ACTIONS_STEP_DEBUG are read from it. */
  env: Readonly<Record<string, string>>;
}

export interface WorkflowCommandsOptions {
  masker: Masker;
  /** Lines are written here after the commands in them were taken out (then masked and shipped). */
  write: (stream: MaskedStream, text: string) => void;
  /** A GitHub-dialect task: commands are read. Otherwise every line goes on as it came. */
  github: boolean;
  /** Debug messages shown for every step (ACTIONS_STEP_DEBUG in the runner's environment or a secret). */
  debug: boolean;
}

const DEPRECATED =
  'Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/';
const UNSECURE =
  'Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/';

/**
 * One task's workflow commands. Call startStep before a step's output, write() with its decoded output, and
 * endStep() when it ended (before masker.flush()). Annotations and masks accumulate over the task.
 */
export class WorkflowCommands {
  readonly annotations: Annotation[] = [];
  /** Annotations not kept: over a limit. Said once per step in the log. */
  dropped = 0;
  #o: WorkflowCommandsOptions;
  #masks = 0;
  #pending: Record<MaskedStream, string> = { stdout: '', stderr: '' };
  /** The last text sent on the stream ended inside a line (that line is text, whatever follows). */
  #midLine: Record<MaskedStream, boolean> = { stdout: false, stderr: false };
  #step: StepCommandOptions = { step: '', env: {} };
  #effects: StepCommandEffects = emptyEffects();
  #stopToken: string | undefined;
  #echo = false;
  #debug = false;
  #perStep: Record<AnnotationLevel, number> = { error: 0, warning: 0, notice: 0 };
  #warnedLimit = false;
  #valueBytes = 0;

  constructor(options: WorkflowCommandsOptions) {
    this.#o = options;
  }

  startStep(step: StepCommandOptions): void {
    this.#step = step;
    this.#effects = emptyEffects();
    this.#stopToken = undefined;
    this.#debug = this.#o.debug || step.env.ACTIONS_STEP_DEBUG === 'true';
    // GitHub echoes processed commands when step debug is on, until ::echo::off.
    this.#echo = this.#debug;
    this.#perStep = { error: 0, warning: 0, notice: 0 };
    this.#warnedLimit = false;
    this.#valueBytes = 0;
  }

  /**
   * Decoded output of the running step. Runs of ordinary lines go on in one piece; only a line that starts (after
   * blanks) with `::` is looked at on its own, and held until its newline if it is not complete yet.
   */
  write(stream: MaskedStream, text: string): void {
    if (!this.#o.github) return this.#o.write(stream, text);
    const all = this.#pending[stream] + text;
    this.#pending[stream] = '';
    // In the middle of a line that already went out as text: nothing up to its end can be a command.
    let start = 0;
    if (this.#midLine[stream]) {
      const nl = all.indexOf('\n');
      if (nl < 0) return this.#o.write(stream, all);
      start = nl + 1;
    }
    let plainFrom = 0;
    const CANDIDATE = /(?:^|\n)([^\S\n]*::)/g;
    CANDIDATE.lastIndex = start === 0 ? 0 : start - 1;
    for (;;) {
      const m = CANDIDATE.exec(all);
      if (m === null) break;
      const at = m.index + m[0].length - m[1]!.length;
      const nl = all.indexOf('\n', at);
      if (nl < 0) {
        // An incomplete line that may still become a command: held (within its limit), the text before it sent.
        if (at > plainFrom) this.#o.write(stream, all.slice(plainFrom, at));
        if (all.length - at <= MAX_COMMAND_LINE_CHARS) {
          this.#pending[stream] = all.slice(at);
          this.#midLine[stream] = false;
        } else {
          this.#o.write(stream, all.slice(at));
          this.#midLine[stream] = true;
        }
        return;
      }
      if (at > plainFrom) this.#o.write(stream, all.slice(plainFrom, at));
      this.#line(stream, all.slice(at, nl + 1));
      plainFrom = nl + 1;
      CANDIDATE.lastIndex = nl;
    }
    const rest = all.slice(plainFrom);
    if (rest === '') return;
    const lastLine = rest.slice(rest.lastIndexOf('\n') + 1);
    // A last line of blanks or a lone `:` may still become a command once more text comes.
    if (
      lastLine !== '' &&
      mayBecomeCommand(lastLine) &&
      (plainFrom > 0 || rest.includes('\n') || !this.#midLine[stream])
    ) {
      this.#o.write(stream, rest.slice(0, rest.length - lastLine.length));
      this.#pending[stream] = lastLine;
      this.#midLine[stream] = false;
      return;
    }
    this.#o.write(stream, rest);
    this.#midLine[stream] = !rest.endsWith('\n');
  }

  /** The step ended: a last line without newline is processed too. Returns what its commands changed. */
  endStep(): StepCommandEffects {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#pending[stream];
      this.#pending[stream] = '';
      this.#midLine[stream] = false;
      if (rest !== '') this.#line(stream, rest);
    }
    return this.#effects;
  }

  /** An annotation of Baton's own about the step that just ended (a step summary over its limit). */
  note(level: AnnotationLevel, message: string): void {
    this.#annotate((text) => this.#o.write('stdout', `${text}\n`), level, message);
  }

  #line(stream: MaskedStream, raw: string): void {
    const newline = raw.endsWith('\n') ? (raw.endsWith('\r\n') ? '\r\n' : '\n') : '';
    const line = raw.slice(0, raw.length - newline.length);
    if (this.#stopToken !== undefined) {
      // Nothing is a command until the token's own line: a step printing untrusted text is safe in between.
      if (line.trim() === `::${this.#stopToken}::`) {
        this.#stopToken = undefined;
        if (this.#echo) this.#o.write(stream, raw);
      } else this.#o.write(stream, raw);
      return;
    }
    const parsed = parseCommand(line);
    if (parsed === undefined) {
      this.#o.write(stream, raw);
      return;
    }
    // The command line itself goes out only when echoed, and then after an add-mask took effect.
    if (parsed.command === 'add-mask') this.#addMask(parsed.data);
    if (this.#echo && parsed.command !== 'echo') this.#o.write(stream, raw);
    this.#run(stream, parsed, line);
  }

  #run(stream: MaskedStream, c: ParsedCommand, line: string): void {
    const out = (text: string): void => this.#o.write(stream, `${text}\n`);
    if (STATE_COMMANDS.has(c.command)) {
      this.#valueBytes += Buffer.byteLength(c.data) + Buffer.byteLength(c.properties.name ?? '');
      if (this.#valueBytes > MAX_COMMAND_VALUE_BYTES) {
        this.#effects.failure ??= `step '${this.#step.step}' handed on more than ${MAX_COMMAND_VALUE_BYTES} bytes with ::set-output::, ::save-state::, ::set-env:: and ::add-path:: (the limit per step, MAX_COMMAND_VALUE_BYTES); the rest is ignored`;
        return;
      }
    }
    switch (c.command) {
      case 'add-mask':
        return;
      case 'stop-commands':
        if (c.data.trim() === '' || COMMANDS.has(c.data))
          return this.#fail(
            out,
            line,
            `Invalid stop-commands token '${c.data}': it must not be empty or a command's name`,
          );
        this.#stopToken = c.data;
        return;
      case 'echo':
        if (c.data === 'on') this.#echo = true;
        else if (c.data === 'off') this.#echo = false;
        else
          this.#fail(out, line, `Invalid echo command value '${c.data}': possible values are 'on' and 'off'`);
        return;
      case 'group':
        return out(`##[group]${oneLine(c.data)}`);
      case 'endgroup':
        return out('##[endgroup]');
      case 'debug':
        if (this.#debug) out(`##[debug]${oneLine(c.data)}`);
        return;
      case 'error':
      case 'warning':
      case 'notice':
        return this.#annotate(out, c.command, c.data, c.properties);
      case 'set-output': {
        this.#annotate(
          out,
          'warning',
          `The \`set-output\` command is deprecated and will be disabled soon. ${DEPRECATED}`,
        );
        const name = c.properties.name;
        if (name === undefined || name === '')
          return this.#fail(out, line, "Required field 'name' is missing");
        this.#effects.outputs[name] = c.data;
        return;
      }
      case 'save-state': {
        this.#annotate(
          out,
          'warning',
          `The \`save-state\` command is deprecated and will be disabled soon. ${DEPRECATED}`,
        );
        const name = c.properties.name;
        if (name === undefined || name === '')
          return this.#fail(out, line, "Required field 'name' is missing");
        this.#effects.state[name] = c.data;
        return;
      }
      case 'set-env':
      case 'add-path': {
        if (this.#step.env.ACTIONS_ALLOW_UNSECURE_COMMANDS !== 'true')
          return this.#fail(out, line, `The \`${c.command}\` command is disabled. ${UNSECURE}`);
        if (c.command === 'add-path') {
          this.#effects.paths.push(c.data);
          return;
        }
        const name = c.properties.name;
        if (name === undefined || name === '')
          return this.#fail(out, line, "Required field 'name' is missing");
        this.#effects.env[name] = c.data;
        return;
      }
    }
  }

  /** As actions/runner: "Unable to process command '…' successfully." and the reason, both errors; the step fails. */
  #fail(out: (text: string) => void, line: string, why: string): void {
    this.#effects.failure ??= `step '${this.#step.step}': ${why}`;
    this.#annotate(out, 'error', `Unable to process command '${line.trim()}' successfully.`);
    this.#annotate(out, 'error', why);
  }

  #addMask(value: string): void {
    const trimmed = value.trim();
    if (trimmed === '') return;
    if (this.#masks >= MAX_MASKS_PER_TASK) {
      this.#effects.failure ??= `step '${this.#step.step}' asked for more than ${MAX_MASKS_PER_TASK} masks (::add-mask::), the limit per task; the value is not masked`;
      return;
    }
    this.#masks++;
    this.#o.masker.add(trimmed);
  }

  #annotate(
    out: (text: string) => void,
    level: AnnotationLevel,
    message: string,
    properties: Record<string, string> = {},
  ): void {
    out(`##[${level}]${oneLine(message)}`);
    if (
      this.#perStep[level] >= MAX_ANNOTATIONS_PER_STEP ||
      this.annotations.length >= MAX_ANNOTATIONS_PER_TASK
    ) {
      this.dropped++;
      if (!this.#warnedLimit)
        out(
          `##[warning]Annotations over the limit are not kept: ${MAX_ANNOTATIONS_PER_STEP} errors, ${MAX_ANNOTATIONS_PER_STEP} warnings and ${MAX_ANNOTATIONS_PER_STEP} notices per step, ${MAX_ANNOTATIONS_PER_TASK} per task (job); the messages stay in the log`,
        );
      this.#warnedLimit = true;
      return;
    }
    this.#perStep[level]++;
    const m = this.#o.masker;
    const annotation: Annotation = { level, message: m.mask(cut(message)), step: this.#step.step };
    if (properties.title !== undefined) annotation.title = m.mask(cut(properties.title));
    if (properties.file !== undefined) annotation.file = m.mask(cut(properties.file));
    for (const key of ['line', 'endLine', 'col', 'endColumn'] as const) {
      const n = positiveInteger(properties[key]);
      if (n !== undefined) annotation[key] = n;
    }
    this.annotations.push(annotation);
  }
}

function emptyEffects(): StepCommandEffects {
  return { outputs: {}, state: {}, env: {}, paths: [] };
}

/** Blanks, then `:` or `::…`: the start of a line that may still turn out to be a command. */
function mayBecomeCommand(partial: string): boolean {
  const text = partial.trimStart();
  return text === '' || text === ':' || text.startsWith('::');
}

/** A message is one log line: its own line breaks are shown as GitHub's raw log escapes them. */
function oneLine(text: string): string {
  return text.replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

function cut(text: string): string {
  return text.length <= MAX_ANNOTATION_MESSAGE_CHARS
    ? text
    : `${text.slice(0, MAX_ANNOTATION_MESSAGE_CHARS)}… (cut at ${MAX_ANNOTATION_MESSAGE_CHARS} characters)`;
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,9}$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n > 0 ? n : undefined;
}
