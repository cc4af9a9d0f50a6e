// Trusting a private certificate authority: a server with a self-signed or in-house certificate is verified
// against this CA (added to the system's, not replacing them) for every HTTPS call of this process.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

export function trustCaFile(path: string): void {
  const pem = readFileSync(path, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${path} holds no PEM certificate`);
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), pem]);
}
