// The runs list: newest first, filtered on the server by status and by part of the name (typed, then sent
// after a short pause), paged with `before`.
import { useEffect, useState } from 'preact/hooks';
import { api, RUN_NAME_FILTER_MAX_CHARS, type RunSummary } from '../api.ts';
import { formatAgo, formatDuration, formatTime, RUN_STATUSES, isTerminal } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../components/status.tsx';

const PAGE = 25;
/** While runs on the page are still going, refresh it this often. */
const REFRESH_MS = 3_000;
/** Typing pauses this long before the name filter goes to the server: one request per word, not per key. */
const NAME_DEBOUNCE_MS = 250;

export function RunsPage({ canSubmit }: { canSubmit: boolean }) {
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const [nameQuery, setNameQuery] = useState('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [runs, setRuns] = useState<RunSummary[]>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const before = cursors[cursors.length - 1];

  useEffect(() => {
    const t = setTimeout(() => {
      if (name.trim() === nameQuery) return;
      setNameQuery(name.trim());
      setCursors([undefined]);
    }, NAME_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [name, nameQuery]);

  useEffect(() => {
    let live = true;
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set('status', status);
    if (nameQuery) q.set('name', nameQuery);
    if (before) q.set('before', before);
    api<{ runs: RunSummary[] }>('GET', `/api/v1/runs?${q}`)
      .then((r) => {
        // An answer to an older filter that arrives late must not replace the current one.
        if (!live) return;
        setRuns(r.runs);
        setError(undefined);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [status, nameQuery, before, tick]);

  useEffect(() => {
    if (!runs?.some((r) => !isTerminal(r.status))) return;
    const t = setTimeout(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearTimeout(t);
  }, [runs]);

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
          Name{' '}
          <input
            type="search"
            value={name}
            maxLength={RUN_NAME_FILTER_MAX_CHARS}
            placeholder="part of the name"
            onInput={(e) => setName(e.currentTarget.value)}
          />
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
              <th scope="col">Tasks</th>
              <th scope="col">Submitted</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {(runs ?? []).map((r) => (
              <tr key={r.id}>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  <div class="muted mono">{r.id}</div>
                </td>
                <td class="progress" title={`${r.tasksDone} of ${r.taskCount} tasks ended`}>
                  {r.tasksDone}/{r.taskCount}
                </td>
                <td>
                  <time dateTime={r.createdAt} title={formatTime(r.createdAt)}>
                    {formatAgo(r.createdAt)}
                  </time>
                  {r.submittedBy !== null && <div class="muted">by {r.submittedBy}</div>}
                </td>
                <td>{formatDuration(r.startedAt, r.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {runs?.length === 0 && (
        <p class="empty">
          {nameQuery || status
            ? 'No run matches these filters.'
            : cursors.length > 1
              ? 'No older runs.'
              : 'No runs yet.'}
        </p>
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
