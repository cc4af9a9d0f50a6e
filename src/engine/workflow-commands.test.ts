// Workflow commands (docs.github.com "Workflow commands for GitHub Actions"): the parser and the per-task
// processor, fed the way a step's decoded output arrives (any split, both streams).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMasker } from './masker.ts';
import {
  MAX_ANNOTATIONS_PER_STEP,
  MAX_ANNOTATIONS_PER_TASK,
  parseCommand,
  WorkflowCommands,
} from './workflow-commands.ts';

function processor(github = true, debug = false) {
  let log = '';
  const masker = createMasker((_stream, text) => (log += text));
  const commands = new WorkflowCommands({
    masker,
    write: (stream, text) => masker.write(stream, text),
    github,
    debug,
  });
  return {
    commands,
    run(text: string, env: Record<string, string> = {}, chunk = text.length || 1) {
      commands.startStep({ step: 'build', env });
      for (let i = 0; i < text.length; i += chunk) commands.write('stdout', text.slice(i, i + chunk));
      const effects = commands.endStep();
      masker.flush();
      return effects;
    },
    log: () => log,
  };
}

describe('parseCommand', () => {
  // "Workflow commands": `::workflow-command parameter1={data},parameter2={data}::{command value}`.
  it('reads the name, the properties and the data', () => {
    expect(parseCommand('::error file=app.js,line=1,col=5,endColumn=7,title=Bad::Missing semicolon')).toEqual(
      {
        command: 'error',
        properties: { file: 'app.js', line: '1', col: '5', endColumn: '7', title: 'Bad' },
        data: 'Missing semicolon',
      },
    );
  });

  // actions/runner trims leading blanks before looking for `::`.
  it('accepts leading blanks and refuses unknown command names', () => {
    expect(parseCommand('   ::debug::x')?.command).toBe('debug');
    expect(parseCommand('::frobnicate::x')).toBeUndefined();
    expect(parseCommand('text ::debug::x')).toBeUndefined();
    expect(parseCommand('::debug')).toBeUndefined();
  });

  // "Workflow commands": data escapes %25 %0D %0A; property values also %3A and %2C.
  it("unescapes data and property values as GitHub's toCommandValue/toCommandProperties escape them", () => {
    expect(parseCommand('::warning title=a%3Ab%2Cc%25::line1%0Aline2%0D%25%3A')).toEqual({
      command: 'warning',
      properties: { title: 'a:b,c%' },
      data: 'line1\nline2\r%%3A',
    });
  });

  it('never throws, whatever the line', () => {
    fc.assert(fc.property(fc.string(), (line) => void parseCommand(line)));
  });
});

describe('WorkflowCommands', () => {
  // "Masking a value in a log": the value is masked in every later line.
  it('masks an add-mask value in all later output, and does not print the command', () => {
    const p = processor();
    p.run('::add-mask::hunter2-secret\nthe password is hunter2-secret\n');
    expect(p.log()).toBe('the password is ***\n');
  });

  it('finds commands wherever the output was split', () => {
    const text = 'a\n::add-mask::s3cr3t-value\n::group::Build\nb s3cr3t-value\n::endgroup::\n';
    for (const chunk of [1, 2, 3, 7]) {
      const p = processor();
      p.run(text, {}, chunk);
      expect(p.log()).toBe('a\n##[group]Build\nb ***\n##[endgroup]\n');
    }
  });

  // "Stopping and starting workflow commands": nothing between the two lines is processed.
  it('ignores every command between ::stop-commands::TOKEN and ::TOKEN::', () => {
    const p = processor();
    const effects = p.run(
      '::stop-commands::pause-123\n::set-output name=x::fake\n::add-mask::not-a-mask\n::pause-123::\n::set-output name=y::real\nnot-a-mask\n',
    );
    expect(effects.outputs).toEqual({ y: 'real' });
    expect(p.log()).toContain('::set-output name=x::fake\n::add-mask::not-a-mask\n');
    expect(p.log()).toContain('\nnot-a-mask\n');
  });

  // "Setting an error message" and the annotation limits of "Usage limits".
  it('records annotations with their location and keeps to the per-step limit', () => {
    const p = processor();
    const lines = Array.from(
      { length: MAX_ANNOTATIONS_PER_STEP + 2 },
      (_, i) => `::error line=${i + 1}::e${i}`,
    );
    p.run(`::notice file=a.ts,line=3,endLine=4,col=2,endColumn=9,title=T::hello\n${lines.join('\n')}\n`);
    expect(p.commands.annotations[0]).toEqual({
      level: 'notice',
      message: 'hello',
      step: 'build',
      title: 'T',
      file: 'a.ts',
      line: 3,
      endLine: 4,
      col: 2,
      endColumn: 9,
    });
    expect(p.commands.annotations.filter((a) => a.level === 'error')).toHaveLength(MAX_ANNOTATIONS_PER_STEP);
    expect(p.log()).toContain('##[error]e11\n');
    expect(p.log()).toContain('Annotations over the limit are not kept');
  });

  it('keeps at most MAX_ANNOTATIONS_PER_TASK annotations over all steps', () => {
    const p = processor();
    for (let s = 0; s < 8; s++) p.run(Array.from({ length: 10 }, () => '::warning::w').join('\n'));
    expect(p.commands.annotations).toHaveLength(MAX_ANNOTATIONS_PER_TASK);
  });

  // "Setting a debug message": shown only when ACTIONS_STEP_DEBUG is on.
  it('shows debug messages only with step debug on', () => {
    const off = processor();
    off.run('::debug::details\n');
    expect(off.log()).toBe('');
    const on = processor();
    on.run('::debug::details\n', { ACTIONS_STEP_DEBUG: 'true' });
    expect(on.log()).toContain('##[debug]details\n');
  });

  it('honours ::set-output:: with a deprecation warning', () => {
    const gh = processor();
    expect(gh.run('::set-output name=v::1.0\n').outputs).toEqual({ v: '1.0' });
    expect(gh.log()).toContain('##[warning]The `set-output` command is deprecated');
  });

  it('leaves the output of other dialects as it came, commands and all', () => {
    const native = processor(false);
    const text =
      '::set-output name=v::1.0\n::stop-commands::tok\n::add-mask::abcdefgh\nabcdefgh\n::group::G\n';
    expect(native.run(text)).toEqual({ outputs: {}, state: {}, env: {}, paths: [] });
    expect(native.log()).toBe(text);
    expect(native.commands.annotations).toEqual([]);
  });

  it('keeps ::save-state:: values for the post step', () => {
    const p = processor();
    expect(p.run('::save-state name=pid::42\n').state).toEqual({ pid: '42' });
  });

  // "Workflow commands": set-env and add-path are disabled unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true.
  it('refuses ::set-env:: and ::add-path:: unless ACTIONS_ALLOW_UNSECURE_COMMANDS=true', () => {
    const p = processor();
    const refused = p.run('::set-env name=A::1\n');
    expect(refused.env).toEqual({});
    expect(refused.failure).toMatch(/The `set-env` command is disabled/);
    expect(p.log()).toContain("##[error]Unable to process command '::set-env name=A::1' successfully.");
    const allowed = p.run('::set-env name=A::1\n::add-path::/opt/bin\n', {
      ACTIONS_ALLOW_UNSECURE_COMMANDS: 'true',
    });
    expect(allowed).toMatchObject({ env: { A: '1' }, paths: ['/opt/bin'] });
    expect(allowed.failure).toBeUndefined();
  });

  it('passes ordinary output through at once, without waiting for a newline', () => {
    const p = processor();
    p.commands.startStep({ step: 's', env: {} });
    p.commands.write('stdout', 'progress 10%');
    expect(p.log()).toBe('progress 10%');
  });
});

describe('WorkflowCommands limits', () => {
  it('stops taking values past MAX_COMMAND_VALUE_BYTES in one step and says why', () => {
    const p = processor();
    const big = 'x'.repeat(1024 * 1024);
    const lines = Array.from({ length: 17 }, (_, i) => `::set-output name=v${i}::${big}`).join('\n');
    const effects = p.run(`${lines}\n`);
    expect(Object.keys(effects.outputs)).toHaveLength(15);
    expect(effects.failure).toMatch(/more than 16777216 bytes .*MAX_COMMAND_VALUE_BYTES/);
  });
});

describe('WorkflowCommands line boundaries', () => {
  // actions/runner reads whole lines: `::` in the middle of a line is text.
  it('does not take a command from the middle of a line, however the output was split', () => {
    for (const chunk of [1, 2, 3, 5, 100]) {
      const p = processor();
      p.run('text ::add-mask::abcdefgh\n  ::group::G\nabcdefgh ok\n', {}, chunk);
      expect(p.log()).toBe('text ::add-mask::abcdefgh\n##[group]G\nabcdefgh ok\n');
    }
  });

  it('sends ordinary lines on in one piece', () => {
    const writes: string[] = [];
    const masker = createMasker(() => undefined);
    const commands = new WorkflowCommands({
      masker,
      write: (_s, t) => writes.push(t),
      github: true,
      debug: false,
    });
    commands.startStep({ step: 's', env: {} });
    commands.write('stdout', 'a\nb\nc\n::group::G\nd\ne\n');
    expect(writes).toEqual(['a\nb\nc\n', '##[group]G\n', 'd\ne\n']);
  });

  it('matches a processor fed whole text, for any text and any split', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('a', ':', ' ', '\n', '::group::x\n', '::add-mask::secretvalue\n', 'secretvalue'),
        ),
        fc.integer({ min: 1, max: 7 }),
        (parts, chunk) => {
          const text = parts.join('');
          const whole = processor();
          whole.run(text);
          const split = processor();
          split.run(text, {}, chunk);
          expect(split.log()).toBe(whole.log());
        },
      ),
    );
  });
});
