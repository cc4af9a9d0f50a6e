// The UI's shell: session check, header navigation, and the page for the current path.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setSignedOutHandler, type Session } from './api.ts';
import { Link, navigate, usePath } from './router.tsx';
import { SignIn } from './pages/signin.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SubmitPage } from './pages/submit.tsx';
import { RunPage } from './pages/run.tsx';
import { RunnersPage } from './pages/runners.tsx';
import { RunnerPage } from './pages/runner.tsx';
import { PushRunnersPage } from './pages/push-runners.tsx';
import { SecretsPage } from './pages/secrets.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import './styles.css';

function Page({ path, session }: { path: string; session: Session }) {
  const canSubmit = session.scope !== 'read';
  const canAdmin = session.scope === 'admin';
  let m: RegExpExecArray | null;
  if (path === '/runs/new' && canSubmit) return <SubmitPage />;
  if ((m = /^\/runs\/([^/]+)(?:\/tasks\/([^/]+))?\/?$/.exec(path)) && m[1] !== 'new')
    return (
      <RunPage
        id={decodeURIComponent(m[1]!)}
        task={m[2] === undefined ? undefined : decodeURIComponent(m[2])}
        canSubmit={canSubmit}
      />
    );
  if (path === '/runners') return <RunnersPage canAdmin={canAdmin} />;
  // Before a runner's page: a pull runner's id is a 26-character ULID, never `push`.
  if (path === '/runners/push' || path === '/runners/push/') return <PushRunnersPage canAdmin={canAdmin} />;
  if ((m = /^\/runners\/([^/]+)\/?$/.exec(path)))
    return <RunnerPage key={m[1]} id={decodeURIComponent(m[1]!)} canAdmin={canAdmin} />;
  if (path === '/secrets') return <SecretsPage canAdmin={canAdmin} />;
  if (path === '/webhooks') return <WebhooksPage canAdmin={canAdmin} />;
  return <RunsPage canSubmit={canSubmit} />;
}

const canAdminNav = (s: Session) => s.scope === 'admin';

function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    setSignedOutHandler(() => setSession(null));
    api<Session>('GET', '/api/v1/session')
      .then(setSession)
      .catch(() => setSession(null));
  }, []);
  useEffect(() => {
    if (path === '/' || path === '/signin') navigate('/runs', true);
  }, [path]);

  if (session === undefined) return null;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const nav = [
    ['/runs', 'Runs'],
    ['/runners', 'Runners'],
    ['/secrets', 'Secrets'],
    ...(canAdminNav(session) ? ([['/webhooks', 'Webhooks']] as const) : []),
  ] as const;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/runs" class="brand">
          Baton
        </Link>
        <nav aria-label="Main">
          {nav.map(([href, label]) => (
            <Link key={href} href={href} aria-current={path.startsWith(href) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <span class="who">
          {session.name ?? 'signed in'} · {session.scope}
        </span>
        <button
          type="button"
          onClick={async () => {
            await api('DELETE', '/api/v1/session');
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <Page path={path} session={session} />
    </>
  );
}

render(<App />, document.getElementById('app')!);
