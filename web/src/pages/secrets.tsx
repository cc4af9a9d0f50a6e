// Secrets: names and times only; set or replace a value (never shown again), delete.
import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.ts';
import { formatTime } from '../format.ts';

interface SecretView {
  name: string;
  createdAt: string | null;
  updatedAt: string | null;
}

export function SecretsPage({ canAdmin }: { canAdmin: boolean }) {
  const [secrets, setSecrets] = useState<SecretView[]>();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api<{ secrets: SecretView[] }>('GET', '/api/v1/secrets')
      .then((r) => setSecrets(r.secrets))
      .catch((e: Error) => setError(e.message));
  }, [tick]);

  return (
    <main id="main">
      <h1>Secrets</h1>
      <p class="help">
        Values are encrypted on the server, delivered sealed to the one runner that runs a task using them,
        and masked in every log. A value is never shown again after it is saved.
      </p>
      {canAdmin && (
        <form
          class="card inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(undefined);
            try {
              const r = await api<{ result: string }>('PUT', `/api/v1/secrets/${enc(name)}`, { value });
              setNotice(`secret ${name} ${r.result}`);
              setName('');
              setValue('');
              setTick((n) => n + 1);
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <h2>Set a secret</h2>
          <label for="secret-name">Name</label>
          <input
            id="secret-name"
            required
            pattern="[A-Za-z_][A-Za-z0-9_]*"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <label for="secret-value">Value</label>
          <textarea
            id="secret-value"
            required
            rows={3}
            autocomplete="off"
            spellcheck={false}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
          <button type="submit" class="primary">
            Save secret
          </button>
        </form>
      )}
      {notice && <p role="status">{notice}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Updated</th>
              {canAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {(secrets ?? []).map((s) => (
              <tr key={s.name} data-secret={s.name}>
                <td class="mono">{s.name}</td>
                <td>{formatTime(s.updatedAt ?? s.createdAt)}</td>
                {canAdmin && (
                  <td>
                    <button
                      type="button"
                      class="danger"
                      onClick={async () => {
                        try {
                          await api('DELETE', `/api/v1/secrets/${enc(s.name)}`);
                          setTick((n) => n + 1);
                        } catch (err) {
                          setError((err as Error).message);
                        }
                      }}
                    >
                      Delete<span class="sr-only"> {s.name}</span>
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {secrets?.length === 0 && <p class="empty">No secrets yet.</p>}
    </main>
  );
}
