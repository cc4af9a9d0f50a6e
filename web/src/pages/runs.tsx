// The runs list: newest first, filtered by status (server) and name (the page shown), paged with `before`.
import { useEffect, useState } from 'preact/hooks';
import { api, type RunSummary } from '../api.ts';
import { formatDuration, formatTime, RUN_STATUSES, isTerminal } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../components/status.tsx';

const PAGE = 25;
/** While runs on the page are still going, refresh it this often. */
const REFRESH_MS = 3_000;

export function RunsPage({ canSubmit }: { canSubmit: boolean }) {
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [runs, setRuns] = useState<RunSummary[]>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const before = cursors[cursors.length - 1];

  useEffect(() => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set('status', status);
    if (before) q.set('before', before);
    api<{ runs: RunSummary[] }>('GET', `/api/v1/runs?${q}`)
      .then((r) => {
        setRuns(r.runs);
        setError(undefined);
      })
      .catch((e: Error) => setError(e.message));
  }, [status, before, tick]);

  useEffect(() => {
    if (!runs?.some((r) => !isTerminal(r.status))) return;
    const t = setTimeout(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearTimeout(t);
  }, [runs]);

  const shown = (runs ?? []).filter((r) => r.name.toLowerCase().includes(name.trim().toLowerCase()));
  return (
    <main id="main">
      <div class="page-head">
        <h1>Runs</h1>
        {canSubmit && (
          <Link class="button primary" href="/runs/new">
            Submit a workflow
          </Link>
        )}
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value);
              setCursors([undefined]);
            }}
          >
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name <input type="search" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="button" onClick={() => setTick((n) => n + 1)}>
          Refresh
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-scroll">
        <table class="runs">
          <caption class="sr-only">Runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Name</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Tasks</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id}>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  <div class="muted mono">{r.id}</div>
                </td>
                <td>{formatTime(r.startedAt ?? r.createdAt)}</td>
                <td>{formatDuration(r.startedAt, r.finishedAt)}</td>
                <td>{r.taskCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {runs && shown.length === 0 && (
        <p class="empty">{runs.length === 0 ? 'No runs yet.' : 'No run on this page matches that name.'}</p>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <button
          type="button"
          disabled={!runs || runs.length < PAGE}
          onClick={() => setCursors([...cursors, runs![runs!.length - 1]!.id])}
        >
          Older →
        </button>
      </nav>
    </main>
  );
}
