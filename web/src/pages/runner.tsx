// One runner: its details and last report, the tasks it runs now and the ones it finished last (each linked to
// its run), re-read every few seconds; admins can disable or enable it here too.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, enc, type RunnerDetail, type RunnerTask } from '../api.ts';
import { formatDuration, formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../components/status.tsx';
import { FreeDisk, Isolation } from '../components/runner-report.tsx';

/** Tasks start and end without us: re-read the page this often. */
const REFRESH_MS = 2_000;

function TaskLink({ t }: { t: RunnerTask }) {
  return (
    <>
      <Link href={`/runs/${enc(t.runId)}/tasks/${enc(t.task)}`}>{t.task}</Link>
      {t.attempt > 1 && <span class="muted"> (attempt {t.attempt})</span>}
    </>
  );
}

function RunLink({ t }: { t: RunnerTask }) {
  return (
    <>
      <Link href={`/runs/${enc(t.runId)}`}>{t.runName}</Link>
      <div class="muted mono">{t.runId}</div>
    </>
  );
}

function CurrentTasks({ tasks }: { tasks: RunnerTask[] }) {
  if (tasks.length === 0) return <p class="empty">No task right now.</p>;
  return (
    <div class="table-scroll">
      <table class="runner-tasks">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Run</th>
            <th scope="col">Started</th>
            <th scope="col">Running for</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={`${t.runId}/${t.task}/${t.attempt}`} data-task={t.task}>
              <td>
                <TaskLink t={t} />
              </td>
              <td>
                <RunLink t={t} />
              </td>
              <td>{t.startedAt ? formatTime(t.startedAt) : 'offered, starting…'}</td>
              <td>{formatDuration(t.startedAt, null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecentTasks({ tasks }: { tasks: RunnerTask[] }) {
  if (tasks.length === 0) return <p class="empty">No finished task yet.</p>;
  return (
    <div class="table-scroll">
      <table class="runner-tasks">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Task</th>
            <th scope="col">Run</th>
            <th scope="col">Duration</th>
            <th scope="col">Finished</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={`${t.runId}/${t.task}/${t.attempt}`} data-task={t.task}>
              <td>
                <StatusBadge status={t.status} />
                {t.reason && t.status !== 'succeeded' && (
                  <div class="muted">
                    {t.reason.replace(/_/g, ' ')}
                    {t.exitCode !== null && ` ${t.exitCode}`}
                  </div>
                )}
              </td>
              <td>
                <TaskLink t={t} />
              </td>
              <td>
                <RunLink t={t} />
              </td>
              <td>{formatDuration(t.startedAt, t.finishedAt)}</td>
              <td>{formatTime(t.finishedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function RunnerPage({ id, canAdmin }: { id: string; canAdmin: boolean }) {
  const [data, setData] = useState<RunnerDetail>();
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const again = () => (timer = setTimeout(() => setTick((n) => n + 1), REFRESH_MS));
    api<RunnerDetail>('GET', `/api/v1/runners/${enc(id)}`)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        again();
      })
      .catch((e: Error) => {
        if (!live) return;
        setError(e.message);
        // A removed (or mistyped) runner does not come back: stop asking.
        if (!(e instanceof ApiError && e.status === 404)) again();
      });
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id, tick]);

  const setDisabled = async (disabled: boolean) => {
    try {
      await api('POST', `/api/v1/runners/${enc(id)}/${disabled ? 'disable' : 'enable'}`);
      setTick((n) => n + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const crumbs = (
    <p class="crumbs">
      <Link href="/runners">Runners</Link> / <span class="mono">{data?.runner.name ?? id}</span>
    </p>
  );
  if (!data)
    return (
      <main id="main">
        {crumbs}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p>Loading…</p>
        )}
      </main>
    );
  const r = data.runner;
  return (
    <main id="main">
      {crumbs}
      <div class="page-head">
        <h1>
          {r.name} <StatusBadge status={r.status} />
        </h1>
        {canAdmin && (
          <div class="actions">
            <button type="button" onClick={() => setDisabled(r.status !== 'disabled')}>
              {r.status === 'disabled' ? 'Enable' : 'Disable'}
            </button>
          </div>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {r.status === 'draining' && (
        <p class="notice" role="note">
          Stopping: it finishes the tasks it runs and takes no new ones.
        </p>
      )}
      <dl class="facts runner-facts">
        <div>
          <dt>Labels</dt>
          <dd>
            {r.labels.length === 0
              ? '—'
              : r.labels.map((l) => (
                  <code key={l} class="label">
                    {l}
                  </code>
                ))}
          </dd>
        </div>
        <div>
          <dt>Tasks</dt>
          <dd>
            {r.activeTasks} of {r.capacity}
          </dd>
        </div>
        <div>
          <dt>Isolation</dt>
          <dd>
            <Isolation report={r.report} ephemeral={r.ephemeral} />
          </dd>
        </div>
        <div>
          <dt>Free disk</dt>
          <dd>
            <FreeDisk report={r.report} />
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{r.version}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{formatTime(r.lastSeenAt)}</dd>
        </div>
        <div>
          <dt>Registered</dt>
          <dd>{formatTime(r.createdAt)}</dd>
        </div>
        <div>
          <dt>ID</dt>
          <dd class="mono">{r.id}</dd>
        </div>
      </dl>

      <section aria-labelledby="current-h" class="runner-current">
        <h2 id="current-h">Current tasks</h2>
        <CurrentTasks tasks={data.current} />
      </section>
      <section aria-labelledby="recent-h" class="runner-recent">
        <h2 id="recent-h">Recent tasks</h2>
        <RecentTasks tasks={data.recent} />
      </section>
    </main>
  );
}
