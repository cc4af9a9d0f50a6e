// The two kinds of runner, as tabs over the Runners page: pull runners (they long-poll the server) and push
// runners (Automn-compatible: the server POSTs each task to them).
import { Link } from '../router.tsx';

export function RunnerTabs({ current }: { current: 'pull' | 'push' }) {
  return (
    <nav class="tabs" aria-label="Runner kinds">
      <Link href="/runners" aria-current={current === 'pull' ? 'page' : undefined}>
        Pull runners
      </Link>
      <Link href="/runners/push" aria-current={current === 'push' ? 'page' : undefined}>
        Push runners
      </Link>
    </nav>
  );
}
