// Submit a workflow: paste or upload its text, give inputs as key=value lines; problems are listed with their
// line and column, and each one moves the cursor to its place in the editor.
import { useRef, useState } from 'preact/hooks';
import { api, ApiError, type Issue, type RunResult } from '../api.ts';
import { navigate } from '../router.tsx';
import { parseInputs } from '../inputs.ts';

export function SubmitPage() {
  const [workflow, setWorkflow] = useState('');
  const [fileName, setFileName] = useState<string>();
  const [inputsText, setInputsText] = useState('');
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);

  const goTo = (line?: number, column?: number) => {
    const el = editor.current;
    if (!el || !line) return;
    const lines = el.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i]!.length + 1;
    pos += Math.max(0, (column ?? 1) - 1);
    el.focus();
    el.setSelectionRange(pos, pos);
  };

  return (
    <main id="main">
      <h1>Submit a workflow</h1>
      <form
        class="submit"
        onSubmit={async (e) => {
          e.preventDefault();
          setIssues([]);
          setError(undefined);
          const parsed = parseInputs(inputsText);
          if (parsed.errors.length > 0) {
            setError(parsed.errors.join('; '));
            return;
          }
          setBusy(true);
          try {
            const run = await api<RunResult>('POST', '/api/v1/runs', {
              workflow,
              inputs: parsed.inputs,
              ...(fileName ? { fileName } : {}),
            });
            navigate(`/runs/${run.id}`);
          } catch (err) {
            if (err instanceof ApiError) {
              setError(err.message);
              setIssues(err.issues);
            } else setError(String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="workflow">Workflow (YAML or JSON)</label>
        <textarea
          id="workflow"
          ref={editor}
          rows={18}
          spellcheck={false}
          required
          value={workflow}
          onInput={(e) => setWorkflow(e.currentTarget.value)}
          aria-describedby={issues.length > 0 ? 'issues' : undefined}
        />
        <label for="upload">…or upload a file</label>
        <input
          id="upload"
          type="file"
          accept=".yml,.yaml,.json,text/yaml,application/json"
          onChange={async (e) => {
            const f = e.currentTarget.files?.[0];
            if (!f) return;
            setWorkflow(await f.text());
            setFileName(f.name);
          }}
        />
        <label for="inputs">Inputs, one key=value per line</label>
        <textarea
          id="inputs"
          rows={4}
          spellcheck={false}
          value={inputsText}
          onInput={(e) => setInputsText(e.currentTarget.value)}
        />
        {error && (
          <div class="error" role="alert">
            <p>{error}</p>
            {issues.length > 0 && (
              <ul id="issues" class="issues">
                {issues.map((i, k) => (
                  <li key={k}>
                    <button type="button" class="link" onClick={() => goTo(i.line, i.column)}>
                      {i.line ? `line ${i.line}${i.column ? `, column ${i.column}` : ''}` : 'workflow'}
                    </button>
                    : {i.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Submit
        </button>
      </form>
    </main>
  );
}
