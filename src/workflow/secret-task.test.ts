// `type: secret` in the Harness dialect: both sources compile to the spec the runner's source reads, and every
// problem in a spec is reported with its line and column, and the limit or the choices.

import { describe, expect, it } from 'vitest';
import { compileWorkflow } from './index.ts';

function compile(yaml: string) {
  return compileWorkflow(yaml, { fileName: 'group.yml' });
}

const VAULT = `taskGroup:
  - name: fetch
    type: secret
    forward: { to: inside }
    spec:
      source: vault
      address: http://vault.internal:8200
      path: app/db
      key: password
      namespace: team-a
      auth:
        approle: { role_id: role-1, secret_id: "\${{ secrets.VAULT_SECRET_ID }}" }
    exports: [{ name: value, confidential: true }]
  - name: use
    type: os_exec
    depends_on: [fetch]
    imports: [{ from: fetch, variable: value }]
    spec: { command: 'echo "{{ .fetch.value }}"' }
`;

describe('secret task type (Harness)', () => {
  it('compiles a Vault spec with its defaults, its forward.to and the sealed secrets it names', () => {
    const out = compile(VAULT);
    if (!out.ok) throw new Error(JSON.stringify(out.issues));
    const fetch = out.plan.tasks.find((t) => t.name === 'fetch')!;
    expect(fetch).toMatchObject({ type: 'secret', forwardTo: 'inside', steps: [] });
    expect(fetch.driverSpec).toEqual({
      source: 'vault',
      engine: 'kv2',
      address: 'http://vault.internal:8200',
      path: 'app/db',
      key: 'password',
      namespace: 'team-a',
      auth: { approle: { role_id: 'role-1', secret_id: '${{ secrets.VAULT_SECRET_ID }}' } },
    });
  });

  it('compiles a Baton secret to a read of the secrets context, so the server seals exactly it', () => {
    const out = compile(
      'taskGroup:\n  - name: s\n    type: secret\n    spec: { source: baton, name: DB_PASSWORD }\n',
    );
    if (!out.ok) throw new Error(JSON.stringify(out.issues));
    expect(out.plan.tasks[0]!.driverSpec).toEqual({
      source: 'baton',
      name: 'DB_PASSWORD',
      value: '${{ secrets.DB_PASSWORD }}',
    });
  });

  it('reports each problem of a spec at its place', () => {
    const cases: Array<[string, string, number, number]> = [
      [
        '    spec: { source: gcp }\n',
        "'source' of task 's' is 'gcp'; supported sources: baton, vault",
        4,
        21,
      ],
      [
        '    spec: { source: baton, name: "1x" }\n',
        "'name' of 'spec' of task 's' is '1x'; a secret name is letters, digits and _ and does not start with a digit",
        4,
        34,
      ],
      [
        '    spec: { source: vault, address: "ftp://x", path: p, auth: { token: t } }\n',
        "'address' of 'spec' of task 's' is 'ftp://x'; give Vault's URL, like https://vault.example.com:8200",
        4,
        37,
      ],
      [
        '    spec: { source: vault, address: "http://v", path: p, engine: kv3, auth: { token: t } }\n',
        "'engine' of 'spec' of task 's' is 'kv3'; supported engines: kv1, kv2",
        4,
        66,
      ],
      [
        '    spec: { source: vault, address: "http://v", path: p, auth: {} }\n',
        "'auth' of 'spec' of task 's' needs exactly one of 'token' or 'approle: {role_id, secret_id}'",
        4,
        64,
      ],
      [
        '    spec: { source: vault, address: "http://v", auth: { token: t } }\n',
        "'spec' of task 's' needs 'path'",
        4,
        11,
      ],
      [
        '    spec: { source: vault, address: "http://v", path: p, token: t }\n',
        "unknown key 'token' in 'spec' of task 's'; allowed keys: source, address, path, key, engine, mount, namespace, auth",
        4,
        58,
      ],
      [
        '    spec: { source: baton, name: X }\n    exports: [{ name: pw }]\n',
        "task 's' exports 'pw', but a secret task that reads one value has only the output 'value'",
        5,
        14,
      ],
    ];
    for (const [tail, message, line, column] of cases) {
      const out = compile(`taskGroup:\n  - name: s\n    type: secret\n${tail}`);
      if (out.ok) throw new Error(`${tail} compiled`);
      expect(
        out.issues.map((i) => [i.message, i.line, i.column]),
        tail,
      ).toContainEqual([message, line, column]);
    }
  });
});
