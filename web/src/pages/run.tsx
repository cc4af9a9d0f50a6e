// One run: its DAG, per-task timings, outputs, artifacts, cancel and re-run; a selected task shows its log and,
// while it waits, why it is pending. The run is re-read while it is not final.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, type Artifact, type RunResult, type TaskResult } from '../api.ts';
import { formatBytes, formatDuration, formatSpan, formatTime, isTerminal } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { StatusBadge } from '../components/status.tsx';
import { Dag } from '../components/dag.tsx';
import { LogView } from '../components/log-view.tsx';
import { PendingExplanationView } from '../components/pending.tsx';
import { Annotations, StepSummaries } from '../components/task-report.tsx';

/** Re-read a live run this often (the run's event stream would replay every log, too heavy for a page). */
const REFRESH_MS = 1_000;

function Outputs({ outputs }: { outputs: Record<string, string> }) {
  const entries = Object.entries(outputs);
  if (entries.length === 0) return <p class="muted">none</p>;
  return (
    <dl class="outputs">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd class="mono">
            {v === '***' ? <span title="confidential: masked by the server">***</span> : v}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function TaskPanel({ run, task, tick }: { run: RunResult; task: TaskResult; tick: number }) {
  const waiting = task.status === 'queued' || task.status === 'pending';
  return (
    <section class="task-panel" aria-labelledby="task-h">
      <h2 id="task-h">
        Task {task.name} <StatusBadge status={task.status} />
      </h2>
      <dl class="facts">
        <div>
          <dt>Runner</dt>
          <dd>{task.runner ?? '—'}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>{task.attempt}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(task.startedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(task.startedAt, task.finishedAt)}</dd>
        </div>
        <div>
          <dt>Exit code</dt>
          <dd>{task.exitCode ?? '—'}</dd>
        </div>
        {task.cacheKey !== undefined && (
          <div>
            <dt>Cache</dt>
            <dd class="cache">
              {task.cached ? `cached: true, age ${formatSpan(task.cacheAgeMs ?? 0)}` : 'miss'} · key{' '}
              <code>{task.cacheKey}</code>
            </dd>
          </div>
        )}
        {task.runsOn.length > 0 && (
          <div>
            <dt>Runs on</dt>
            <dd>{task.runsOn.join(', ')}</dd>
          </div>
        )}
      </dl>
      {task.reason && (
        <p class="reason">
          {task.reason.replace(/_/g, ' ')}
          {task.message ? `: ${task.message}` : ''}
        </p>
      )}
      {waiting && <PendingExplanationView runId={run.id} task={task.name} tick={tick} />}
      {task.annotations !== undefined && (
        <>
          <h3>Annotations</h3>
          <Annotations annotations={task.annotations} />
        </>
      )}
      {task.summaries !== undefined && (
        <>
          <h3>Summary</h3>
          <StepSummaries summaries={task.summaries} />
        </>
      )}
      <h3>Outputs</h3>
      <Outputs outputs={task.outputs} />
      {task.status !== 'pending' &&
        task.status !== 'skipped' &&
        (task.attempt > 0 || task.status === 'queued') && (
          <LogView
            runId={run.id}
            task={task.name}
            attempt={task.attempt}
            truncated={task.logTruncated}
            {...(task.steps === undefined ? {} : { steps: task.steps })}
          />
        )}
    </section>
  );
}

/** Every task's annotations, as GitHub lists them on a run's summary; each links to its task. */
function RunAnnotations({ run }: { run: RunResult }) {
  const tasks = Object.values(run.results).filter((t) => t.annotations !== undefined);
  if (tasks.length === 0) return null;
  return (
    <section aria-labelledby="annotations-h">
      <h2 id="annotations-h">Annotations</h2>
      {tasks.map((t) => (
        <div key={t.name}>
          <Link href={`/runs/${enc(run.id)}/tasks/${enc(t.name)}`}>{t.name}</Link>
          <Annotations annotations={t.annotations ?? []} />
        </div>
      ))}
    </section>
  );
}

export function RunPage({
  id,
  task,
  canSubmit,
}: {
  id: string;
  task: string | undefined;
  canSubmit: boolean;
}) {
  const [run, setRun] = useState<RunResult>();
  const [artifacts, setArtifacts] = useState<Artifact[]>([]);
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    Promise.all([
      api<RunResult>('GET', `/api/v1/runs/${enc(id)}`),
      api<{ artifacts: Artifact[] }>('GET', `/api/v1/runs/${enc(id)}/artifacts`),
    ])
      .then(([r, a]) => {
        if (!live) return;
        setRun(r);
        setArtifacts(a.artifacts);
        setError(undefined);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [id, tick]);

  useEffect(() => {
    if (!run || isTerminal(run.status)) return;
    const t = setTimeout(() => setTick((n) => n + 1), REFRESH_MS);
    return () => clearTimeout(t);
  }, [run]);

  if (error && !run)
    return (
      <main id="main">
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    );
  if (!run)
    return (
      <main id="main">
        <p>Loading…</p>
      </main>
    );
  const tasks = Object.values(run.results);
  const selected = task !== undefined ? run.results[task] : undefined;
  const select = (name: string) => navigate(`/runs/${enc(id)}/tasks/${enc(name)}`, true);

  const cancel = async () => {
    setBusy(true);
    try {
      setRun(await api<RunResult>('POST', `/api/v1/runs/${enc(id)}/cancel`));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  /** The tasks that did not succeed (and were not skipped): what "Re-run failed tasks" runs again. */
  const failed = Object.values(run.results)
    .filter((t) => isTerminal(t.status) && t.status !== 'succeeded' && t.status !== 'skipped')
    .map((t) => t.name);
  const rerun = async (jobs?: string[]) => {
    setBusy(true);
    try {
      const w = await api<{ workflow: string; inputs: Record<string, string> }>(
        'GET',
        `/api/v1/runs/${enc(id)}/workflow`,
      );
      const next = await api<RunResult>('POST', '/api/v1/runs', {
        workflow: w.workflow,
        inputs: w.inputs,
        ...(jobs === undefined ? {} : { jobs }),
      });
      navigate(`/runs/${next.id}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main">
      <p class="crumbs">
        <Link href="/runs">Runs</Link> / <span class="mono">{run.id}</span>
      </p>
      <div class="page-head">
        <h1>
          {run.name} <StatusBadge status={run.status} />
        </h1>
        {canSubmit && (
          <div class="actions">
            {!isTerminal(run.status) && (
              <button type="button" class="danger" onClick={cancel} disabled={busy}>
                Cancel run
              </button>
            )}
            <button type="button" onClick={() => void rerun()} disabled={busy}>
              Re-run
            </button>
            {isTerminal(run.status) && failed.length > 0 && (
              <button
                type="button"
                onClick={() => void rerun(failed)}
                disabled={busy}
                title="A new run of the tasks that failed, and of the tasks they need"
              >
                Re-run failed tasks
              </button>
            )}
          </div>
        )}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>Created</dt>
          <dd>{formatTime(run.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(run.startedAt, run.finishedAt)}</dd>
        </div>
        {Object.keys(run.inputs).length > 0 && (
          <div>
            <dt>Inputs</dt>
            <dd class="mono">
              {Object.entries(run.inputs)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}
            </dd>
          </div>
        )}
      </dl>

      <h2>Tasks</h2>
      <Dag tasks={tasks} selected={task} onSelect={select} />
      <div class="table-scroll">
        <table class="tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Runner</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Exit</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.name} class={t.name === task ? 'selected' : ''}>
                <td>
                  <Link href={`/runs/${enc(id)}/tasks/${enc(t.name)}`}>{t.name}</Link>
                </td>
                <td>
                  <StatusBadge status={t.status} />
                  {t.cached && (
                    <span class="cached" title={`cached result, key ${t.cacheKey ?? ''}`}>
                      {' '}
                      cached
                    </span>
                  )}
                </td>
                <td>{t.runner ?? '—'}</td>
                <td>{formatTime(t.startedAt)}</td>
                <td>{formatDuration(t.startedAt, t.finishedAt)}</td>
                <td>{t.exitCode ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {selected && <TaskPanel key={selected.name} run={run} task={selected} tick={tick} />}
      {task !== undefined && !selected && <p class="error">This run has no task '{task}'.</p>}

      <RunAnnotations run={run} />

      <h2>Outputs</h2>
      <Outputs outputs={run.outputs} />

      <h2>Artifacts</h2>
      {artifacts.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <ul class="artifacts">
          {artifacts.map((a) => (
            <li key={a.id}>
              <a href={`/api/v1/runs/${enc(id)}/artifacts/${enc(a.id)}`} download>
                {a.task}/{a.name}.zip
              </a>{' '}
              <span class="muted">
                {formatBytes(a.sizeBytes)} · attempt {a.attempt}
              </span>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
