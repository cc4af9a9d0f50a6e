// A secret with special characters, fed through the real encoders on this machine (python3, curl, jq when
// installed, node), must appear in none of their spellings in the stored log, the log SSE stream, the run-event
// SSE stream or the run's API answer. The step also writes each encoder's output to a file beside the log
// (not through it), so the test looks for exactly what the tools wrote, not for what the masker thinks they
// write. And an expression error over the secret (fromJSON of a non-JSON secret) quotes none of it.
// Real server and runner processes.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { base64Needle } from '../../src/engine/masker.ts';
import { startRunnerProcess, startServerProcess, waitForRun } from '../helpers/cluster.ts';
import { stepVisibleDir } from '../helpers/temp.ts';

// Each line: a label, then what the encoder printed. The label is also the line's start in the log, where
// the encoded secret must read `***`.
const SCRIPT = String.raw`
set -u
show() { printf '%s %s\n' "$1" "$2"; printf '%s\t%s\n' "$1" "$2" >> "$FORMS"; }
py() { python3 -c "import os, json, urllib.parse as u; v = os.environ['SECRET']; print($1, end='')"; }
show py-quote-safe-empty "$(py "u.quote(v, safe='')")"
show py-quote-safe-slash "$(py "u.quote(v, safe='/')")"
show py-quote-plus "$(py 'u.quote_plus(v)')"
show py-json-ascii "$(py 'json.dumps(v)')"
show py-json-utf8 "$(py 'json.dumps(v, ensure_ascii=False)')"
show curl-get-url "$(curl -s -G --data-urlencode "v=$SECRET" -o /dev/null -w '%{url_effective}' http://127.0.0.1:9/ || true)"
# The body curl sends for a POST, as a local listener receives it.
python3 -c '
import http.server, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        open(sys.argv[1], "wb").write(body)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.handle_request()
' "$WORK/body" > "$WORK/port" &
listener=$!
while [ ! -s "$WORK/port" ]; do sleep 0.05; done
curl -s --data-urlencode "v=$SECRET" "http://127.0.0.1:$(cat "$WORK/port")/" -o /dev/null
wait "$listener"
show curl-post-body "$(cat "$WORK/body")"
if command -v jq >/dev/null; then
  show jq-uri "$(jq -rn --arg v "$SECRET" '$v | @uri')"
  show jq-json "$(jq -cn --arg v "$SECRET" '$v')"
  show jq-json-ascii "$(jq -acn --arg v "$SECRET" '$v')"
else
  echo "jq is not installed: its encoders are left out"
fi
show node-uri-component "$(node -e 'process.stdout.write(encodeURIComponent(process.env.SECRET))')"
show node-uri "$(node -e 'process.stdout.write(encodeURI(process.env.SECRET))')"
show node-json "$(node -e 'process.stdout.write(JSON.stringify(process.env.SECRET))')"
show node-base64 "$(node -e 'process.stdout.write(Buffer.from(process.env.SECRET).toString("base64"))')"
`;

describe('masking what real encoders write', () => {
  it('a secret with special characters leaks in no spelling into the log, either SSE stream or the API', async () => {
    const server = await startServerProcess();
    await startRunnerProcess(server, 'enc');
    const secret = `Q7 a&b<c>d/e"fé+g%h~${randomBytes(6).toString('hex')}`;
    await server.client.setSecret('SPECIAL', secret);
    const shared = stepVisibleDir('baton-encoders-');
    const formsFile = join(shared, 'forms.tsv');
    const indent = (text: string) => text.replace(/^/gm, '          ');
    const workflow = `
tasks:
  encode:
    env:
      SECRET: \${{ secrets.SPECIAL }}
      FORMS: ${formsFile}
      WORK: ${shared}
    steps:
      - name: encoders
        run: |
${indent(SCRIPT.trim())}
  badjson:
    env:
      PARSED: \${{ fromJSON(secrets.SPECIAL) }}
    steps:
      - run: echo never
`;
    const run = await server.client.submitRun(workflow);
    const runEvents: string[] = [];
    const followed = (async () => {
      for await (const m of server.client.runStream(run.id))
        runEvents.push(m.kind === 'log' ? m.data : JSON.stringify(m));
    })();
    const logStream: string[] = [];
    for await (const text of server.client.followTaskLog(run.id, 'encode')) logStream.push(text);
    await followed;
    const result = await waitForRun(server.client, run.id);
    const log = await server.client.taskLog(run.id, 'encode');
    const badJsonLog = await server.client.taskLog(run.id, 'badjson');

    // What the encoders wrote, as they wrote it.
    const written = readFileSync(formsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t') as [string, string]);
    const labels = written.map(([label]) => label);
    expect(labels).toEqual(expect.arrayContaining(['py-quote-plus', 'curl-post-body', 'node-json']));

    const spellings = new Map<string, string>([[secret, 'the secret itself']]);
    for (const [label, form] of written) {
      // Strip what the tool wrapped around the secret: the URL and field name, JSON quotes, base64 padding.
      const bare = form
        .replace(/^.*\?v=|^v=/, '')
        .replace(/^"(.*)"$/, '$1')
        .replace(/=+$/, '');
      spellings.set(bare, label);
    }
    for (const offset of [0, 1, 2] as const) spellings.set(base64Needle(secret, offset), `base64 +${offset}`);

    const places: Record<string, string> = {
      'stored log': log,
      'log SSE stream': logStream.join(''),
      'run-event SSE stream': runEvents.join('\n'),
      'run API answer': JSON.stringify(result),
      'bad-json log': badJsonLog,
    };
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(places))
      for (const [spelling, label] of spellings)
        if (text.includes(spelling)) leaks.push(`${where} holds the ${label} spelling ${spelling}`);
    expect(leaks).toEqual([]);
    for (const [label] of written) expect(log, label).toMatch(new RegExp(`^${label} .*\\*\\*\\*`, 'm'));

    // The expression error says what went wrong without quoting the secret: none of its characters
    // outside plain letters and digits, and not its first character.
    expect(result.status).toBe('failed');
    const failure = result.results.badjson;
    expect(failure?.status).toBe('failed');
    const message = failure?.message ?? '';
    const quoted = message.replace(/ at position \d+ in 'fromJSON\(secrets\.SPECIAL\)'.*$/s, '');
    for (const ch of ['Q', ...new Set(secret.replace(/[a-z0-9 ]/g, ''))])
      expect(quoted, `the message shows '${ch}'`).not.toContain(ch);
    expect(badJsonLog).not.toMatch(/Unexpected token|Q7/);
    expect(message).toContain('fromJSON() got a value that is not valid JSON');
  });
});
