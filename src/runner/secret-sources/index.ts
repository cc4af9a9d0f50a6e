// The secret sources a runner gives its engine (EngineOptions.secretSources), by the name a `secret` task's
// `source` names. They live on the runner because they reach out — Vault over HTTP — and the engine does no
// network (DESIGN.md). The contract is engine/types.ts SecretSource; adding a source is adding a module here and
// one line below (and its keys in workflow/secret-task.ts).
import type { SecretSource } from '../../engine/index.ts';
import { batonSource } from './baton.ts';
import { vaultSource } from './vault.ts';

export const SECRET_SOURCES: ReadonlyMap<string, SecretSource> = new Map(
  [batonSource, vaultSource].map((s) => [s.name, s]),
);
