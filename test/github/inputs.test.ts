// workflow_dispatch inputs through `baton run` (issue 18, "Inputs"), checked against docs.github.com "Workflow
// syntax" (on.workflow_dispatch.inputs, .type, .options, .default, .required) and "Contexts" ("inputs context":
// "preserves Boolean values as Booleans instead of converting them to strings").
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batonRun, batonRunJson, gitCheckout } from './run.ts';

const DISPATCH = `on:
  workflow_dispatch:
    inputs:
      dry:
        type: boolean
        default: true
      count:
        type: number
        default: 3
      mode:
        type: choice
        options: [fast, thorough]
        default: fast
      target:
        type: environment
        required: true
      note:
        description: free text
jobs:
  show:
    outputs:
      dry_not: \${{ steps.s.outputs.dry_not }}
      dry_event: \${{ steps.s.outputs.dry_event }}
      dry_json: \${{ steps.s.outputs.dry_json }}
      count_plus: \${{ steps.s.outputs.count_plus }}
      count_json: \${{ steps.s.outputs.count_json }}
      mode: \${{ steps.s.outputs.mode }}
      target: \${{ steps.s.outputs.target }}
      note: \${{ steps.s.outputs.note }}
      event: \${{ steps.s.outputs.event }}
    steps:
      - id: s
        run: |
          echo "dry_not=\${{ !inputs.dry }}" >> "$GITHUB_OUTPUT"
          echo "dry_event=\${{ github.event.inputs.dry == 'true' }}" >> "$GITHUB_OUTPUT"
          echo "dry_json=\${{ toJSON(inputs.dry) }}" >> "$GITHUB_OUTPUT"
          echo "count_plus=\${{ inputs.count == 3 }}" >> "$GITHUB_OUTPUT"
          echo "count_json=\${{ toJSON(inputs.count) }}" >> "$GITHUB_OUTPUT"
          echo "mode=\${{ inputs.mode }}" >> "$GITHUB_OUTPUT"
          echo "target=\${{ inputs.target }}" >> "$GITHUB_OUTPUT"
          echo "note=[\${{ inputs.note }}]" >> "$GITHUB_OUTPUT"
          echo "event=\${{ github.event_name }}" >> "$GITHUB_OUTPUT"
  only_if_not_dry:
    if: \${{ !inputs.dry }}
    steps:
      - run: echo publishing
`;

describe('workflow_dispatch inputs, typed as on GitHub', () => {
  it('applies defaults and gives boolean and number inputs their types in expressions', async () => {
    const dir = gitCheckout({ '.github/workflows/d.yml': DISPATCH });
    const json = await batonRunJson(['.github/workflows/d.yml', '--input', 'target=staging'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.show!.outputs).toEqual({
      // A boolean input is a boolean: !true is false (a string 'true' would also give false, so toJSON shows it).
      dry_not: 'false',
      dry_json: 'true',
      // github.event.inputs holds the string form.
      dry_event: 'true',
      count_plus: 'true',
      count_json: '3',
      mode: 'fast',
      target: 'staging',
      note: '[]',
      // The workflow's only event is the default one.
      event: 'workflow_dispatch',
    });
    // A job-level if reads the typed input: `!inputs.dry` is false, so the job is skipped.
    expect(json.run!.results.only_if_not_dry!.status).toBe('skipped');
  });

  it("takes --input values: 'false' is the boolean false, and a job's if sees it", async () => {
    const dir = gitCheckout({ '.github/workflows/d.yml': DISPATCH });
    const json = await batonRunJson(
      [
        '.github/workflows/d.yml',
        '-i',
        'target=prod',
        '-i',
        'dry=false',
        '-i',
        'count=1e1',
        '-i',
        'mode=thorough',
      ],
      { cwd: dir },
    );
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.show!.outputs).toMatchObject({
      dry_not: 'true',
      dry_json: 'false',
      dry_event: 'false',
      count_plus: 'false',
      count_json: '10',
      mode: 'thorough',
    });
    expect(json.run!.results.only_if_not_dry!.status).toBe('succeeded');
  });

  it('refuses a missing required input, and values that do not fit their type, naming each', async () => {
    const dir = gitCheckout({ '.github/workflows/d.yml': DISPATCH });
    const missing = await batonRun(['.github/workflows/d.yml'], { cwd: dir });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("input 'target' is required and has no default");
    const bad = await batonRun(
      ['.github/workflows/d.yml', '-i', 'target=x', '-i', 'dry=yes', '-i', 'count=ten', '-i', 'mode=slow'],
      { cwd: dir },
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("input 'dry' is 'yes'; a boolean is true or false");
    expect(bad.stderr).toContain("input 'count' is 'ten'; it must be a number");
    expect(bad.stderr).toContain("input 'mode' is 'slow'; it must be one of 'fast', 'thorough'");
  });

  it('refuses a bad input declaration at submit with its line and column', async () => {
    const dir = gitCheckout({
      '.github/workflows/bad.yml': `on:
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [low, high]
        default: medium
      flag:
        type: bool
jobs:
  a:
    steps:
      - run: echo hi
`,
    });
    const result = await batonRun(['.github/workflows/bad.yml'], { cwd: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      "7:18: 'default' of input 'level' is 'medium'; it must be one of 'low', 'high'",
    );
    expect(result.stderr).toContain("9:15: 'type' of input 'flag' is 'bool'; workflow_dispatch inputs are");
  });

  it('takes the inputs of a workflow_dispatch --event-file payload, --input winning', async () => {
    // "Events that trigger workflows" > workflow_dispatch: the payload's `inputs` are the run's inputs.
    const dir = gitCheckout({ '.github/workflows/d.yml': DISPATCH });
    writeFileSync(
      join(dir, 'dispatch.json'),
      JSON.stringify({ inputs: { target: 'from-file', mode: 'thorough', dry: false } }),
    );
    const json = await batonRunJson(
      ['.github/workflows/d.yml', '--event-file', 'dispatch.json', '-i', 'mode=fast'],
      { cwd: dir },
    );
    expect(json.code, json.stderr).toBe(0);
    expect(json.run!.results.show!.outputs).toMatchObject({
      target: 'from-file',
      mode: 'fast',
      dry_json: 'false',
    });
  });

  it('gives a push run no inputs, as GitHub does, and makes --input a workflow_dispatch run', async () => {
    // "Contexts" > "inputs context": inputs exist for workflow_dispatch and reusable workflows; a push run's
    // `inputs` is empty, defaults included.
    const dir = gitCheckout({
      '.github/workflows/both.yml': `on:
  push:
  workflow_dispatch:
    inputs:
      level:
        default: low
jobs:
  a:
    outputs:
      r: \${{ steps.s.outputs.r }}
    steps:
      - id: s
        run: echo "r=\${{ github.event_name }}:[\${{ inputs.level }}]" >> "$GITHUB_OUTPUT"
`,
    });
    const push = await batonRunJson(['.github/workflows/both.yml'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    expect(push.run!.results.a!.outputs.r).toBe('push:[]');
    const dispatch = await batonRunJson(['.github/workflows/both.yml', '-i', 'level=high'], { cwd: dir });
    expect(dispatch.code, dispatch.stderr).toBe(0);
    expect(dispatch.run!.results.a!.outputs.r).toBe('workflow_dispatch:[high]');
    const refused = await batonRun(['.github/workflows/both.yml', '--event', 'push', '-i', 'level=high'], {
      cwd: dir,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("inputs were given (level) but the event is 'push'");
  });
});
