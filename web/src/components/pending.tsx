// "Why is this task pending?": the server's per-runner reasons (GET …/tasks/:task/pending), refreshed with the run.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, type PendingExplanation } from '../api.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from './status.tsx';

export function PendingExplanationView({ runId, task, tick }: { runId: string; task: string; tick: number }) {
  const [data, setData] = useState<PendingExplanation>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api<PendingExplanation>('GET', `/api/v1/runs/${enc(runId)}/tasks/${enc(task)}/pending`)
      .then((d) => {
        setData(d);
        setError(undefined);
      })
      .catch((e: Error) => setError(e.message));
  }, [runId, task, tick]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return null;
  return (
    <section class="pending" aria-labelledby="pending-h">
      <h3 id="pending-h">Why is this task {data.status}?</h3>
      <p class="pending-summary">{data.summary}</p>
      {(data.runsOn.length > 0 || data.runsOnAny.length > 0 || data.forwardTo) && (
        <p>
          Needs labels: {data.runsOn.length > 0 ? data.runsOn.map((l) => <code key={l}>{l}</code>) : 'none'}
          {data.runsOnAny.length > 0 && (
            <>
              {' '}
              · any one of{' '}
              {data.runsOnAny.map((l) => (
                <code key={l}>{l}</code>
              ))}
            </>
          )}
          {data.forwardTo && (
            <>
              {' '}
              · forwarded to <code>{data.forwardTo}</code>
            </>
          )}
        </p>
      )}
      {data.status === 'queued' && data.runners.length > 0 && (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Runner</th>
                <th scope="col">Status</th>
                <th scope="col">Can take it? (reason)</th>
              </tr>
            </thead>
            <tbody>
              {data.runners.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.dispatcher === 'pull' ? (
                      <Link href={`/runners/${enc(r.id)}`}>{r.name}</Link>
                    ) : r.dispatcher === 'push' ? (
                      <Link href="/runners/push">{r.name}</Link>
                    ) : (
                      r.name
                    )}
                    {r.dispatcher !== 'pull' && <small class="muted"> ({r.dispatcher})</small>}
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    {r.reason === null ? (
                      'yes'
                    ) : (
                      <div class="reason" data-code={r.reason.code}>
                        <code>{r.reason.code}</code> {r.reason.message}
                        {r.reasons.length > 1 && (
                          <ul class="reasons">
                            {r.reasons.slice(1).map((x, i) => (
                              <li key={`${x.code}-${i}`} data-code={x.code}>
                                also <code>{x.code}</code>: {x.message}
                              </li>
                            ))}
                          </ul>
                        )}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
