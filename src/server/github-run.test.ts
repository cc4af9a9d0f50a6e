// A GitHub-dialect run stores its facts, vars and typed inputs (docs/adr/0018-github-context.md); limits refuse
// with 422 and store nothing.
import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.ts';
import type { GitHubRunContext } from '../protocol/github-context.ts';

const WORKFLOW = `on:
  workflow_dispatch:
    inputs:
      dry: { type: boolean, default: false }
jobs:
  a:
    steps:
      - run: echo \${{ github.sha }} \${{ vars.X }}
`;

const FACTS = {
  event_name: 'workflow_dispatch',
  event: { ref: 'refs/heads/main' },
  sha: 'abc123',
  ref: 'refs/heads/main',
  ref_name: 'main',
  ref_type: 'branch',
  repository: 'octo/repo',
  repository_owner: 'octo',
  actor: 'octo',
};

async function submit(t: TestApp, payload: Record<string, unknown>) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/runs',
    headers: { authorization: `Bearer ${t.adminToken}` },
    payload,
  });
  return { status: res.statusCode, body: res.json() as { id: string; error?: { message: string } } };
}

async function stored(t: TestApp, id: string): Promise<GitHubRunContext | null> {
  const row = await t.store.runs.runRow(id);
  return row?.github_context ? (JSON.parse(row.github_context) as GitHubRunContext) : null;
}

describe('the GitHub context of a run', () => {
  it('stores facts, vars and typed inputs, fills the dispatch payload inputs and counts run_number', async () => {
    const t = await createTestApp();
    const first = await submit(t, {
      workflow: WORKFLOW,
      github: FACTS,
      vars: { X: '1' },
      inputs: { dry: 'true' },
    });
    expect(first.status).toBe(201);
    const context = await stored(t, first.body.id);
    expect(context).toEqual({
      github: { ...FACTS, event: { ref: 'refs/heads/main', inputs: { dry: 'true' } }, run_number: '1' },
      vars: { X: '1' },
      inputs: { dry: true },
    });
    const second = await submit(t, { workflow: WORKFLOW });
    expect(second.status).toBe(201);
    // Without facts (the UI, the API alone): a manual run.
    expect((await stored(t, second.body.id))?.github).toMatchObject({
      event_name: 'workflow_dispatch',
      sha: '',
      run_number: '2',
      event: { inputs: { dry: 'false' } },
    });
  });

  it('refuses vars over the limits with 422 naming them, and stores nothing', async () => {
    const t = await createTestApp();
    const res = await submit(t, { workflow: WORKFLOW, vars: { GITHUB_TOKEN: 'x', BIG: 'x'.repeat(49_153) } });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toContain("var name 'GITHUB_TOKEN' is not valid");
    expect(res.body.error?.message).toContain("var 'BIG' is 49153 bytes; the limit is 49152 bytes per var");
    expect(await t.store.runs.list({ limit: 10 })).toEqual([]);
  });

  it('keeps no GitHub context for a workflow of another dialect', async () => {
    const t = await createTestApp();
    const res = await submit(t, {
      workflow: 'tasks:\n  a:\n    run: echo\n',
      github: FACTS,
      vars: { X: '1' },
    });
    expect(res.status).toBe(201);
    expect(await stored(t, res.body.id)).toBeNull();
  });

  it('refuses a fact longer than GITHUB_FACT_MAX_CHARS with 400 naming the field', async () => {
    const t = await createTestApp();
    const res = await submit(t, { workflow: WORKFLOW, github: { ...FACTS, sha: 'a'.repeat(1025) } });
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain('sha');
    expect(res.body.error?.message).toContain('1024');
  });
});
