// `--metrics-addr HOST:PORT`, parsed without loading the metrics code itself.

/** Parses `HOST:PORT` (`[::1]:9100` for IPv6); a clear error naming the value otherwise. */
export function parseMetricsAddr(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new Error(`--metrics-addr must be HOST:PORT (e.g. 127.0.0.1:9464), got '${v}'`);
  return { host: (m[1] ?? m[2])!, port };
}
