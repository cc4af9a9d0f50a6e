// A push runner (Automn-compatible) as `GET /api/settings/runner-hosts` and the admin routes show it: upstream's
// `runnerHost` field names plus Baton's `hasKey`/`canReceiveSecrets` (server/push/view.ts builds it; the client,
// the CLI and the web UI read it).

export interface PushRunnerHost {
  id: string;
  name: string;
  status: 'pending' | 'healthy' | 'offline' | 'disabled';
  statusMessage: string | null;
  endpoint: string | null;
  lastSeenAt: string | null;
  maxConcurrency: number | null;
  timeoutMs: number | null;
  runnerVersion: string | null;
  runnerOs: string | null;
  runnerPlatform: string | null;
  runnerArch: string | null;
  runnerUptime: number | null;
  runnerRuntimes: Record<string, string>;
  minimumHostVersion: string | null;
  hostVersion: string;
  minimumRunnerVersion: string;
  adminOnly: boolean;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
  /** It registered a public key (`baton runner serve`): it runs Baton tasks themselves, secrets included. */
  hasKey: boolean;
  canReceiveSecrets: boolean;
  isHealthy: boolean;
  isStale: boolean;
  isCompatible: boolean;
  runnerOutdated: boolean;
  hostOutdatedForRunner: boolean;
}
