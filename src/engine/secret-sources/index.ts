// The secret sources this engine knows, by the name a `secret` task's `source` gives (source.ts has the contract).
import { batonSource } from './baton.ts';
import type { SecretSource } from './source.ts';
import { vaultSource } from './vault.ts';

export const SECRET_SOURCES: ReadonlyMap<string, SecretSource> = new Map(
  [batonSource, vaultSource].map((s) => [s.name, s]),
);
export { SecretSourceError, type SecretSource } from './source.ts';
