// A fake HashiCorp Vault for tests: there is no Vault server here, so this small Node HTTP server answers the
// few documented routes a `secret` task uses, in Vault's JSON shapes — KV v2 `GET /v1/<mount>/data/<path>`
// (`data.data` and `data.metadata`), KV v1 `GET /v1/<mount>/<path>` (`data`), AppRole
// `POST /v1/auth/<mount>/login` (`auth.client_token`) — and checks `X-Vault-Token` and `X-Vault-Namespace` as
// Vault does (403 `{"errors":["permission denied"]}`, 404 `{"errors":[]}`). Tests that use it say "fake Vault".
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeVaultOptions {
  /** Tokens that may read; an AppRole login adds the token it issues. */
  tokens: string[];
  /** When set, every request must carry this `X-Vault-Namespace` (else 403, as a token of another namespace). */
  namespace?: string;
  /** KV v2 mounts: mount → path → the secret's data. */
  kv2?: Record<string, Record<string, Record<string, unknown>>>;
  /** KV v1 mounts: mount → path → data. */
  kv1?: Record<string, Record<string, Record<string, unknown>>>;
  /** AppRole credentials accepted at `auth/<mount>/login` (mount default `approle`). */
  approle?: { roleId: string; secretId: string; mount?: string };
  /** Paths (as `<mount>/<path>`) answered with this many bytes of JSON padding: a response larger than any limit. */
  huge?: Record<string, number>;
  /** Paths (as `<mount>/<path>`) never answered: the request hangs until the client gives up. */
  hang?: string[];
}

export interface FakeVault {
  url: string;
  /** Every request's method, path and the Vault headers it carried. */
  requests: Array<{ method: string; path: string; token?: string; namespace?: string }>;
  close(): Promise<void>;
}

export async function startFakeVault(options: FakeVaultOptions): Promise<FakeVault> {
  const tokens = new Set(options.tokens);
  const requests: FakeVault['requests'] = [];
  const hanging = new Set<IncomingMessage>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://vault').pathname;
    const token = header(req, 'x-vault-token');
    const namespace = header(req, 'x-vault-namespace');
    requests.push({
      method: req.method ?? '',
      path,
      ...(token === undefined ? {} : { token }),
      ...(namespace === undefined ? {} : { namespace }),
    });
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    const denied = () => send(403, { errors: ['permission denied'] });
    if (options.namespace !== undefined && namespace !== options.namespace) return denied();
    const rel = path.replace(/^\/v1\//, '');
    const approleMount = options.approle?.mount ?? 'approle';
    if (req.method === 'POST' && rel === `auth/${approleMount}/login` && options.approle) {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const given = JSON.parse(body || '{}') as { role_id?: string; secret_id?: string };
        if (given.role_id !== options.approle!.roleId || given.secret_id !== options.approle!.secretId)
          return send(400, { errors: ['invalid role or secret ID'] });
        const issued = `hvs.${randomBytes(12).toString('hex')}`;
        tokens.add(issued);
        send(200, {
          request_id: randomBytes(8).toString('hex'),
          lease_id: '',
          renewable: false,
          lease_duration: 0,
          data: null,
          wrap_info: null,
          warnings: null,
          auth: {
            client_token: issued,
            accessor: randomBytes(8).toString('hex'),
            policies: ['default'],
            token_policies: ['default'],
            metadata: { role_name: 'test' },
            lease_duration: 3600,
            renewable: true,
            entity_id: '',
            token_type: 'service',
            orphan: true,
          },
        });
      });
      return;
    }
    if (req.method !== 'GET') return send(405, { errors: [`unsupported method ${req.method}`] });
    if (token === undefined || !tokens.has(token)) return denied();
    if (options.hang?.includes(rel.replace('/data/', '/'))) {
      hanging.add(req);
      req.on('close', () => hanging.delete(req));
      return;
    }
    const padding = options.huge?.[rel.replace('/data/', '/')];
    if (padding !== undefined) return send(200, { data: { data: { padding: 'x'.repeat(padding) } } });
    const [mount, ...rest] = rel.split('/');
    if (mount === undefined) return send(404, { errors: [] });
    const v2 = options.kv2?.[mount];
    if (v2 !== undefined) {
      if (rest[0] !== 'data') return send(404, { errors: [] });
      const data = v2[rest.slice(1).join('/')];
      if (data === undefined) return send(404, { errors: [] });
      return send(200, {
        request_id: randomBytes(8).toString('hex'),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: {
          data,
          metadata: {
            created_time: '2018-03-22T02:24:06.945319214Z',
            custom_metadata: null,
            deletion_time: '',
            destroyed: false,
            version: 1,
          },
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    const data = options.kv1?.[mount]?.[rest.join('/')];
    if (data === undefined) return send(404, { errors: [] });
    return send(200, {
      request_id: randomBytes(8).toString('hex'),
      lease_id: '',
      renewable: false,
      lease_duration: 2764800,
      data,
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of hanging) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
