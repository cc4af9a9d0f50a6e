// The runner fleet: status, labels, load, version, last seen, each name a link to the runner's page; add a runner (a registration token and the exact
// command to run on the new machine), disable, enable, remove.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, type RunnerView } from '../api.ts';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { StatusBadge } from '../components/status.tsx';
import { FreeDisk, Isolation } from '../components/runner-report.tsx';
import { registerCommand } from '../register-command.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { RunnerTabs } from '../components/runner-tabs.tsx';

/** One hour and single use: the token shown on screen is good for exactly this one registration. */
const REGISTRATION_TTL_S = 3600;

function AddRunner({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('');
  const [command, setCommand] = useState<string>();
  const [error, setError] = useState<string>();
  return (
    <section class="card" aria-labelledby="add-h">
      <h2 id="add-h">Add a runner</h2>
      {!command ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              const t = await api<{ token: string }>('POST', '/api/v1/tokens', {
                kind: 'registration',
                name: `runner ${name}`.trim(),
                expiresInSeconds: REGISTRATION_TTL_S,
                singleUse: true,
              });
              setCommand(registerCommand(location.origin, t.token, name, labels));
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <label for="runner-name">Name</label>
          <input
            id="runner-name"
            required
            pattern="[A-Za-z0-9_][A-Za-z0-9_.@\-]*"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <label for="runner-labels">Labels, comma-separated</label>
          <input
            id="runner-labels"
            placeholder="linux,x64"
            value={labels}
            onInput={(e) => setLabels(e.currentTarget.value)}
          />
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="primary">
              Create registration command
            </button>
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
        </form>
      ) : (
        <div>
          <p>
            On the new runner's machine, install Baton with Node.js 24 on <code>PATH</code> (
            <code>npm install -g ./baton-&lt;version&gt;.tgz</code>, the tarball <code>npm pack</code> makes;
            README, "Installing a runner"). Run this there, then start it with <code>baton runner start</code>
            . The token in it works once, for one hour, and is not shown again.
          </p>
          <pre class="command" aria-label="Registration command">
            <code id="register-command">{command}</code>
          </pre>
          <div class="actions">
            <CopyButton text={command} target="register-command" />
            <button type="button" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

export function RunnersPage({ canAdmin }: { canAdmin: boolean }) {
  const [runners, setRunners] = useState<RunnerView[]>();
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api<{ runners: RunnerView[] }>('GET', '/api/v1/runners')
      .then((r) => setRunners(r.runners))
      .catch((e: Error) => setError(e.message));
    // The fleet changes without us: runners come online, take tasks, go quiet.
    const t = setTimeout(() => setTick((n) => n + 1), 3_000);
    return () => clearTimeout(t);
  }, [tick]);

  const act = async (method: string, path: string) => {
    try {
      await api(method, path);
      setTick((n) => n + 1);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <main id="main">
      <div class="page-head">
        <h1>Runners</h1>
        {canAdmin && !adding && (
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            Add runner
          </button>
        )}
      </div>
      <RunnerTabs current="pull" />
      {adding && (
        <AddRunner
          onClose={() => {
            setAdding(false);
            setTick((n) => n + 1);
          }}
        />
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-scroll">
        <table class="runners">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Labels</th>
              <th scope="col">Tasks</th>
              <th scope="col">Isolation</th>
              <th scope="col">Free disk</th>
              <th scope="col">Version</th>
              <th scope="col">Last seen</th>
              {canAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(runners ?? []).map((r) => (
              <tr key={r.id} data-runner={r.name}>
                <td>
                  <Link href={`/runners/${enc(r.id)}`}>{r.name}</Link>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  {r.labels.length === 0
                    ? '—'
                    : r.labels.map((l) => (
                        <code key={l} class="label">
                          {l}
                        </code>
                      ))}
                </td>
                <td>
                  {r.activeTasks} / {r.capacity}
                </td>
                <td>
                  <Isolation report={r.report} ephemeral={r.ephemeral} />
                </td>
                <td>
                  <FreeDisk report={r.report} />
                </td>
                <td>{r.version}</td>
                <td>{formatTime(r.lastSeenAt)}</td>
                {canAdmin && (
                  <td class="actions">
                    {r.status === 'disabled' ? (
                      <button
                        type="button"
                        onClick={() => act('POST', `/api/v1/runners/${enc(r.id)}/enable`)}
                      >
                        Enable<span class="sr-only"> {r.name}</span>
                      </button>
                    ) : (
                      <button
                        type="button"
                        onClick={() => act('POST', `/api/v1/runners/${enc(r.id)}/disable`)}
                      >
                        Disable<span class="sr-only"> {r.name}</span>
                      </button>
                    )}
                    <button
                      type="button"
                      class="danger"
                      onClick={() => {
                        if (confirm(`Remove runner ${r.name}? Its token stops working.`))
                          void act('DELETE', `/api/v1/runners/${enc(r.id)}`);
                      }}
                    >
                      Remove<span class="sr-only"> {r.name}</span>
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {runners?.length === 0 && <p class="empty">No runner yet: add one to run tasks.</p>}
    </main>
  );
}
