// Sign in with a user token: the server checks it and keeps it in an HttpOnly cookie; the page never stores it.
import { useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <main class="signin" id="main">
      <h1>Sign in to Baton</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            onSignedIn(await api<Session>('POST', '/api/v1/session', { token }));
          } catch (err) {
            setError(err instanceof ApiError ? err.message : String(err));
          } finally {
            setBusy(false);
            setToken('');
          }
        }}
      >
        <label for="token">User token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="help">
          A token starting with <code>baton_u_</code>: printed at the server's first start, or made with{' '}
          <code>baton token create</code>.
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
