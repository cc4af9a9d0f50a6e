// The `vault` secret source: HashiCorp Vault's HTTP API over fetch. KV v2 reads `GET /v1/<mount>/data/<path>`
// (the secret in `data.data`), KV v1 `GET /v1/<mount>/<path>` (in `data`); `X-Vault-Token` carries the token,
// `X-Vault-Namespace` the namespace (Vault Enterprise / HCP). AppRole logs in first with
// `POST /v1/auth/<mount>/login {role_id, secret_id}` and uses `auth.client_token`. Vault's `errors[]` are
// quoted in the failure; no value is ever put in a message.
import { SecretSourceError, type SecretFetchContext, type SecretSource } from '../../engine/index.ts';

interface VaultSpec {
  address: string;
  path: string;
  engine: 'kv1' | 'kv2';
  mount?: string;
  namespace?: string;
  auth: { token?: string; approle?: { role_id: string; secret_id: string; mount?: string } };
}

/** Vault's default mount of the KV engine (`vault secrets enable -path=secret kv-v2`, dev servers). */
const DEFAULT_KV_MOUNT = 'secret';
const DEFAULT_APPROLE_MOUNT = 'approle';

export const vaultSource: SecretSource = {
  name: 'vault',
  async fetch(raw, ctx) {
    const spec = raw as unknown as VaultSpec;
    const base = spec.address.replace(/\/+$/, '');
    const mount = trimSlashes(spec.mount ?? DEFAULT_KV_MOUNT);
    const path = trimSlashes(spec.path);
    const headers: Record<string, string> = {};
    if (spec.namespace !== undefined) headers['X-Vault-Namespace'] = spec.namespace;
    const token = spec.auth.token ?? (await appRoleLogin(base, spec, headers, ctx));
    if (token === '') throw new SecretSourceError(`the Vault token for '${mount}/${path}' is empty`);
    const url = spec.engine === 'kv1' ? `${base}/v1/${mount}/${path}` : `${base}/v1/${mount}/data/${path}`;
    const where = `Vault ${spec.engine} secret '${mount}/${path}'`;
    const body = await call(
      url,
      { method: 'GET', headers: { ...headers, 'X-Vault-Token': token } },
      where,
      ctx,
    );
    const data = body.data as Record<string, unknown> | undefined;
    const secret = spec.engine === 'kv1' ? data : (data?.data as Record<string, unknown> | null | undefined);
    if (secret === null || secret === undefined || typeof secret !== 'object' || Array.isArray(secret)) {
      const deleted = spec.engine === 'kv2' && data?.data === null;
      throw new SecretSourceError(
        deleted
          ? `${where}: its current version is deleted or destroyed`
          : `${where}: the answer has no ${spec.engine === 'kv1' ? "'data'" : "'data.data'"} object (is the engine ${spec.engine === 'kv1' ? 'kv2' : 'kv1'}?)`,
      );
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  },
};

async function appRoleLogin(
  base: string,
  spec: VaultSpec,
  headers: Record<string, string>,
  ctx: SecretFetchContext,
): Promise<string> {
  const role = spec.auth.approle!;
  const mount = trimSlashes(role.mount ?? DEFAULT_APPROLE_MOUNT);
  const where = `Vault AppRole login at 'auth/${mount}/login'`;
  const body = await call(
    `${base}/v1/auth/${mount}/login`,
    {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role_id: role.role_id, secret_id: role.secret_id }),
    },
    where,
    ctx,
  );
  const token = (body.auth as { client_token?: unknown } | undefined)?.client_token;
  if (typeof token !== 'string' || token === '')
    throw new SecretSourceError(`${where}: the answer has no 'auth.client_token'`);
  return token;
}

/** One request: a 2xx JSON object, or a SecretSourceError quoting Vault's `errors[]`. */
async function call(
  url: string,
  init: RequestInit,
  where: string,
  ctx: SecretFetchContext,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: ctx.signal, redirect: 'error' });
  } catch (error) {
    if (ctx.signal.aborted) throw new SecretSourceError(`${where}: ${abortReason(ctx.signal)}`);
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new SecretSourceError(`${where}: cannot reach ${new URL(url).origin}: ${cause}`);
  }
  const text = await readLimited(res, ctx, where);
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const errors = (body as { errors?: unknown } | undefined)?.errors;
    const said = Array.isArray(errors) && errors.length > 0 ? errors.map(String).join('; ') : res.statusText;
    throw new SecretSourceError(`${where}: Vault answered ${res.status}${said ? `: ${said}` : ''}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new SecretSourceError(`${where}: Vault's answer is not a JSON object`);
  return body as Record<string, unknown>;
}

async function readLimited(res: Response, ctx: SecretFetchContext, where: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  const tooLarge = () =>
    new SecretSourceError(`${where}: the answer is larger than the limit of ${ctx.maxResponseBytes} bytes`);
  if (declared > ctx.maxResponseBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.byteLength;
      if (total > ctx.maxResponseBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof SecretSourceError) throw error;
    if (ctx.signal.aborted) throw new SecretSourceError(`${where}: ${abortReason(ctx.signal)}`);
    throw new SecretSourceError(`${where}: the answer broke off: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'the task was cancelled';
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
