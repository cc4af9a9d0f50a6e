// Environment files (issue 18), through `baton run` as a real process: docs.github.com "Workflow commands for
// GitHub Actions", sections "Environment files", "Setting an environment variable", "Setting an output
// parameter", "Adding a job summary", "Adding a system path" and "Sending values to the pre and post actions".
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

function workflow(steps: string): Record<string, string> {
  return { '.github/workflows/ci.yml': `on: push\njobs:\n  build:\n    steps:\n${steps}` };
}

interface Reported {
  status: string;
  outputs: Record<string, string>;
  annotations?: Array<{ level: string; message: string }>;
  summaries?: Array<{ step: string; markdown: string }>;
}

describe('environment files, through baton run', () => {
  // "Environment files": each step gets its own files; a step that overwrites one with `>` sets only its own.
  it('gives each step fresh GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH files, so `>` works', async () => {
    const dir = gitCheckout(
      workflow(`      - id: a
        run: |
          echo "size=$(wc -c < "$GITHUB_OUTPUT") $(wc -c < "$GITHUB_ENV") $(wc -c < "$GITHUB_PATH")"
          echo "first=one" > "$GITHUB_OUTPUT"
          echo "A=from-a" > "$GITHUB_ENV"
      - id: b
        run: |
          echo "size=$(wc -c < "$GITHUB_OUTPUT") $(wc -c < "$GITHUB_ENV")"
          echo "second=two" > "$GITHUB_OUTPUT"
          echo "B=from-b" > "$GITHUB_ENV"
      - run: echo "a=\${{ steps.a.outputs.first }} b=\${{ steps.b.outputs.second }} env=$A,$B"
`),
    );
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stdout + live.stderr).toBe(0);
    expect(live.stdout.match(/size=0 0 0\n/g)).toHaveLength(1);
    expect(live.stdout).toContain('size=0 0\n');
    expect(live.stdout).toContain('a=one b=two env=from-a,from-b');
  });

  // "Multiline strings": `{name}<<{delimiter}` … `{delimiter}`; a missing delimiter is an error
  // ("Matching delimiter not found").
  it("reads heredoc values and fails the step with GitHub's error when the delimiter never comes", async () => {
    const good = gitCheckout(
      workflow(`      - id: n
        run: |
          {
            echo "notes<<EOF_1"
            echo "line one"
            echo "line two"
            echo "EOF_1"
          } >> "$GITHUB_OUTPUT"
      - run: echo "[\${{ steps.n.outputs.notes }}]"
`),
    );
    const ok = await batonRun(['.github/workflows/ci.yml'], { cwd: good });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\[line one\n.*line two\]/);
    const bad = gitCheckout(
      workflow(`      - run: |
          echo "notes<<EOF_1" >> "$GITHUB_OUTPUT"
          echo "line one" >> "$GITHUB_OUTPUT"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: bad });
    expect(json.code).toBe(1);
    const build = json.run?.results.build as unknown as Reported & { message: string };
    expect(build.status).toBe('failed');
    expect(build.message).toMatch(/line 1: Matching delimiter not found 'EOF_1'/);
  });

  // "Adding a job summary": Markdown in GITHUB_STEP_SUMMARY, one per step, shown on the run.
  it('keeps each step summary on the run, masked like the log', async () => {
    const dir = gitCheckout(
      workflow(`      - name: report
        run: |
          echo "::add-mask::very-secret-42"
          echo "### Results :rocket:" >> "$GITHUB_STEP_SUMMARY"
          echo "| test | result |" >> "$GITHUB_STEP_SUMMARY"
          echo "| --- | --- |" >> "$GITHUB_STEP_SUMMARY"
          echo "| unit | very-secret-42 |" >> "$GITHUB_STEP_SUMMARY"
      - name: overwrite
        run: |
          echo "first" > "$GITHUB_STEP_SUMMARY"
          echo "replaced" > "$GITHUB_STEP_SUMMARY"
      - name: quiet
        run: "true"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const build = json.run?.results.build as unknown as Reported;
    expect(build.summaries).toEqual([
      {
        step: 'report',
        markdown: '### Results :rocket:\n| test | result |\n| --- | --- |\n| unit | *** |\n',
      },
      { step: 'overwrite', markdown: 'replaced\n' },
    ]);
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.stdout).toContain('summary of build (report):\n  ### Results :rocket:');
  });

  // "Step isolation and limits": a summary over 1 MiB is not uploaded and an error annotation says so.
  it('refuses a step summary over 1 MiB with an error annotation, without failing the step', async () => {
    const dir = gitCheckout(
      workflow(`      - name: big
        run: head -c 1100000 /dev/zero | tr '\\0' 'x' >> "$GITHUB_STEP_SUMMARY"
`),
    );
    const json = await batonRunJson(['.github/workflows/ci.yml'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const build = json.run?.results.build as unknown as Reported;
    expect(build.summaries).toBeUndefined();
    expect(build.annotations?.[0]?.message).toMatch(
      /^\$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got 1075k/,
    );
  });

  // "Sending values to the pre and post actions": GITHUB_STATE takes `name=value`, kept for the post step;
  // a step's GITHUB_STATE is its own (fresh), so it is not another step's output or env either.
  it('takes GITHUB_STATE values without turning them into outputs or env', async () => {
    const dir = gitCheckout(
      workflow(`      - id: s
        run: echo "pid=1234" >> "$GITHUB_STATE"
      - run: echo "output=[\${{ steps.s.outputs.pid }}] env=[$STATE_pid] state-file=[$(cat "$GITHUB_STATE")]"
`),
    );
    const live = await batonRun(['.github/workflows/ci.yml'], { cwd: dir });
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('output=[] env=[] state-file=[]');
  });
});
