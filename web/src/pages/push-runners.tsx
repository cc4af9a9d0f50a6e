// Push runners (Automn-compatible): the entries a `baton runner serve` or an Automn runner registers against, with
// their health from the heartbeats; admins create one (its secret shown once, with the command to start the
// runner), rotate its secret (shown once, with the runner's /internal/reset call), disable, enable and remove it.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, type PushRunnerHost, type PushRunnerList } from '../api.ts';
import { formatAgo, formatTime } from '../format.ts';
import { CopyButton } from '../components/copy-button.tsx';
import { RunnerTabs } from '../components/runner-tabs.tsx';
import { parseLabels, resetCommand, runnerBaseUrl, serveCommand } from '../push-setup.ts';

const BASE = '/api/settings/runner-hosts';
/** The server's minimum (src/server/push/secret.ts); the server checks it too and its message is shown. */
const SECRET_MIN = 12;
/** Heartbeats come and go without us: re-read the list this often. */
const REFRESH_MS = 3_000;

/** The server's four states in the words an operator reads: `pending` has never registered, or must again. */
function statusWords(h: PushRunnerHost): { cls: string; text: string } {
  switch (h.status) {
    case 'healthy':
      return { cls: 'healthy', text: 'healthy' };
    case 'offline':
      return { cls: 'stale', text: 'stale' };
    case 'disabled':
      return { cls: 'disabled', text: 'disabled' };
    default:
      return h.statusMessage === null
        ? { cls: 'pending', text: 'never registered' }
        : { cls: 'pending', text: 'awaiting registration' };
  }
}

function SecretBox({ secret }: { secret: string }) {
  return (
    <>
      <div class="secret-box">
        <pre class="command" aria-label="Runner secret">
          <code id="push-secret">{secret}</code>
        </pre>
        <CopyButton text={secret} target="push-secret" label="Copy secret" />
      </div>
      <p class="notice" role="note">
        Copy it now: this secret is not shown again. The server keeps only a hash of it.
      </p>
    </>
  );
}

interface Created {
  kind: 'created';
  host: PushRunnerHost;
  secret: string;
}
interface Rotated {
  kind: 'rotated';
  host: PushRunnerHost;
  secret: string;
  /** The runner's base URL from the endpoint it registered before the rotation (which clears it). */
  runnerBase: string;
}

function CreatedPanel({ p, onDone }: { p: Created; onDone: () => void }) {
  const command = serveCommand(location.origin, p.host.id);
  return (
    <section class="card" aria-labelledby="created-h">
      <h2 id="created-h">Push runner {p.host.name} created</h2>
      <p>Its secret:</p>
      <SecretBox secret={p.secret} />
      <h3>Start the runner</h3>
      <p>
        On the runner's machine, with <code>runner-host</code> replaced by the address this server reaches it
        at:
      </p>
      <pre class="command" aria-label="Runner command">
        <code id="serve-command">{command}</code>
      </pre>
      <p class="help">
        Then open <code>http://runner-host:3030/</code> and enter the secret there, or set{' '}
        <code>AUTOMN_RUNNER_SECRET</code> in the runner's environment (a service's environment file, not a
        command line; the <code>/</code> page and <code>/internal/reset</code> cannot change it then). Tasks
        reach it with <code>runs_on: [{p.host.name}]</code> or one of its labels.
      </p>
      <div class="actions">
        <CopyButton text={command} target="serve-command" label="Copy command" />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function RotatedPanel({ p, onDone }: { p: Rotated; onDone: () => void }) {
  const command = resetCommand(p.runnerBase, p.secret);
  return (
    <section class="card" aria-labelledby="rotated-h">
      <h2 id="rotated-h">New secret for {p.host.name}</h2>
      <p>The old secret no longer registers: the runner is sent nothing until it registers with this one.</p>
      <SecretBox secret={p.secret} />
      <h3>Give it to the runner</h3>
      <p>
        When the runner has a reset token (<code>AUTOMN_RUNNER_RESET_TOKEN</code>), post the new secret to its{' '}
        <code>/internal/reset</code>; it stores it and registers again at once:
      </p>
      <pre class="command" aria-label="Reset command">
        <code id="reset-command">{command}</code>
      </pre>
      <p class="help">
        Without a reset token: stop the runner, delete its <code>runner-state.json</code> (under{' '}
        <code>AUTOMN_RUNNER_STATE_DIR</code>), start it and enter the secret at its <code>/</code> page; or,
        when its secret comes from <code>AUTOMN_RUNNER_SECRET</code>, change that and restart it.
      </p>
      <div class="actions">
        <CopyButton text={command} target="reset-command" label="Copy command" />
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function CreateForm({ onCreated, onClose }: { onCreated: (c: Created) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [labels, setLabels] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <section class="card" aria-labelledby="create-h">
      <h2 id="create-h">Add a push runner</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setBusy(true);
          try {
            const r = await api<{ runnerHost: PushRunnerHost; secret: string }>('POST', BASE, {
              name,
              ...(id.trim() ? { id: id.trim() } : {}),
              ...(secret ? { secret } : {}),
              labels: parseLabels(labels),
            });
            onCreated({ kind: 'created', host: r.runnerHost, secret: r.secret });
          } catch (err) {
            // The form keeps what was typed: fix the one field the server named and submit again.
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="push-name">Name</label>
        <input id="push-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="push-id">ID (optional)</label>
        <input
          id="push-id"
          placeholder="generated when empty"
          aria-describedby="push-id-help"
          value={id}
          onInput={(e) => setId(e.currentTarget.value)}
        />
        <p class="help" id="push-id-help">
          The runner's <code>AUTOMN_RUNNER_ID</code>: letters, digits, <code>.</code>, <code>_</code> or{' '}
          <code>-</code>.
        </p>
        <label for="push-labels">Labels, comma-separated</label>
        <input
          id="push-labels"
          placeholder="automn,linux"
          value={labels}
          onInput={(e) => setLabels(e.currentTarget.value)}
        />
        <label for="push-secret-input">Secret (optional)</label>
        <input
          id="push-secret-input"
          type="password"
          autocomplete="new-password"
          aria-describedby="push-secret-help"
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
        <p class="help" id="push-secret-help">
          At least {SECRET_MIN} characters; leave empty to have a strong one generated.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Create push runner
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}

function DisableForm({
  host,
  onDone,
  onClose,
}: {
  host: PushRunnerHost;
  onDone: () => void;
  onClose: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  return (
    <section class="card" aria-labelledby="disable-h">
      <h2 id="disable-h">Disable {host.name}</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await api('POST', `${BASE}/${enc(host.id)}/disable`, reason.trim() ? { reason } : {});
            onDone();
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <p class="help">
          It is sent no new task and its registrations are refused until it is enabled again; a task it runs
          now goes on.
        </p>
        <label for="disable-reason">Reason (optional, shown as its status message)</label>
        <input
          id="disable-reason"
          maxLength={500}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="danger">
            Disable runner
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function VersionCell({ h }: { h: PushRunnerHost }) {
  const os = [h.runnerOs ?? h.runnerPlatform, h.runnerArch].filter(Boolean).join(' ');
  if (!h.runnerVersion && !os) return <>—</>;
  return (
    <>
      {h.runnerVersion ?? '—'}
      {os && <div class="muted">{os}</div>}
      {h.runnerOutdated && (
        <div class="error">older than {h.minimumRunnerVersion}, the oldest this server accepts</div>
      )}
      {h.hostOutdatedForRunner && <div class="error">needs a newer host</div>}
    </>
  );
}

type Panel = { kind: 'create' } | Created | Rotated | { kind: 'disable'; host: PushRunnerHost } | undefined;

export function PushRunnersPage({ canAdmin }: { canAdmin: boolean }) {
  const [data, setData] = useState<PushRunnerList>();
  const [loadError, setLoadError] = useState<string>();
  const [error, setError] = useState<string>();
  const [panel, setPanel] = useState<Panel>();
  const [tick, setTick] = useState(0);
  const refresh = () => setTick((n) => n + 1);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    api<PushRunnerList>('GET', BASE)
      .then((d) => {
        if (!live) return;
        setData(d);
        setLoadError(undefined);
      })
      .catch((e: Error) => live && setLoadError(e.message))
      .finally(() => {
        if (live) timer = setTimeout(refresh, REFRESH_MS);
      });
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tick]);

  const act = async (method: string, path: string, body?: unknown) => {
    setError(undefined);
    try {
      const r = await api<unknown>(method, path, body);
      refresh();
      return r;
    } catch (e) {
      setError((e as Error).message);
      return undefined;
    }
  };

  const rotate = async (h: PushRunnerHost) => {
    if (
      !confirm(
        `Rotate the secret of push runner ${h.name}? Its current secret stops working at once; it is sent no task until it registers with the new one.`,
      )
    )
      return;
    const runnerBase = runnerBaseUrl(h.endpoint);
    const r = (await act('POST', `${BASE}/${enc(h.id)}/rotate-secret`, {})) as
      { runnerHost: PushRunnerHost; secret: string } | undefined;
    if (r) setPanel({ kind: 'rotated', host: r.runnerHost, secret: r.secret, runnerBase });
  };

  const hosts = data?.runnerHosts ?? [];
  const windowS = Math.round((data?.heartbeatWindowMs ?? 120_000) / 1000);
  const closePanel = () => {
    setPanel(undefined);
    refresh();
  };
  return (
    <main id="main">
      <div class="page-head">
        <h1>Runners</h1>
        {canAdmin && panel?.kind !== 'create' && (
          <button type="button" class="primary" onClick={() => setPanel({ kind: 'create' })}>
            Add push runner
          </button>
        )}
      </div>
      <RunnerTabs current="push" />
      <p class="help page-help">
        Push runners speak Automn's runner protocol: <code>baton runner serve</code> or an Automn runner
        registers here with its secret and heartbeats, and the server POSTs each task whose{' '}
        <code>runs_on</code> names it or one of its labels to the endpoint it registered. One is healthy while
        its heartbeats arrive within {windowS} s.
      </p>
      {canAdmin && panel?.kind === 'create' && (
        <CreateForm
          onCreated={(c) => {
            setPanel(c);
            refresh();
          }}
          onClose={() => setPanel(undefined)}
        />
      )}
      {panel?.kind === 'created' && <CreatedPanel p={panel} onDone={closePanel} />}
      {panel?.kind === 'rotated' && <RotatedPanel p={panel} onDone={closePanel} />}
      {panel?.kind === 'disable' && (
        <DisableForm host={panel.host} onDone={closePanel} onClose={() => setPanel(undefined)} />
      )}
      {(loadError ?? error) && (
        <p class="error" role="alert">
          {loadError ?? error}
        </p>
      )}
      {data && hosts.length > 0 && (
        <div class="table-scroll">
          <table class="push-runners">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Labels</th>
                <th scope="col">Status</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Version</th>
                <th scope="col">Max tasks</th>
                {canAdmin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => {
                const s = statusWords(h);
                const labels = data.labels?.[h.id] ?? [];
                return (
                  <tr key={h.id} data-push-runner={h.id}>
                    <td class="nowrap">{h.name}</td>
                    <td class="mono nowrap">{h.id}</td>
                    <td>
                      {labels.length === 0
                        ? '—'
                        : labels.map((l) => (
                            <code key={l} class="label">
                              {l}
                            </code>
                          ))}
                    </td>
                    <td>
                      <span class={`status status-${s.cls}`}>{s.text}</span>
                      {h.statusMessage && <div class="muted status-message">{h.statusMessage}</div>}
                    </td>
                    <td class="mono endpoint">{h.endpoint ?? '—'}</td>
                    <td>
                      {h.lastSeenAt ? (
                        <time dateTime={h.lastSeenAt} title={formatTime(h.lastSeenAt)}>
                          {formatAgo(h.lastSeenAt)}
                        </time>
                      ) : (
                        'never'
                      )}
                    </td>
                    <td>
                      <VersionCell h={h} />
                    </td>
                    <td>{h.maxConcurrency ?? <span class="muted">1 (not advertised)</span>}</td>
                    {canAdmin && (
                      <td>
                        <div class="row-actions">
                          <button type="button" onClick={() => void rotate(h)}>
                            Rotate secret<span class="sr-only"> of {h.name}</span>
                          </button>
                          {h.status === 'disabled' ? (
                            <button
                              type="button"
                              onClick={() => void act('POST', `${BASE}/${enc(h.id)}/enable`, {})}
                            >
                              Enable<span class="sr-only"> {h.name}</span>
                            </button>
                          ) : (
                            <button type="button" onClick={() => setPanel({ kind: 'disable', host: h })}>
                              Disable<span class="sr-only"> {h.name}</span>
                            </button>
                          )}
                          <button
                            type="button"
                            class="danger"
                            onClick={() => {
                              if (
                                confirm(
                                  `Remove push runner ${h.name}? It is sent no more tasks and its secret stops working.`,
                                )
                              )
                                void act('DELETE', `${BASE}/${enc(h.id)}`).then(() => {
                                  if (panel && 'host' in panel && panel.host.id === h.id) setPanel(undefined);
                                });
                            }}
                          >
                            Remove<span class="sr-only"> {h.name}</span>
                          </button>
                        </div>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {data && hosts.length === 0 && (
        <p class="empty">
          No push runner yet
          {canAdmin ? (
            <>
              : add one, then start <code>baton runner serve</code> with its secret.
            </>
          ) : (
            '.'
          )}
        </p>
      )}
      {!data && !loadError && <p>Loading…</p>}
    </main>
  );
}
