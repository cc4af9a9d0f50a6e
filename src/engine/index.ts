// The engine's public face: run one task on this machine (no network, no database).
export { runTask, DEFAULT_CANCEL_GRACE_MS } from './run-task.ts';
export { ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits.ts';
export { MIN_MASK_LENGTH, createMasker, type Masker } from './masker.ts';
export { removeUpload } from './work-dir.ts';
export { SUPPORTED_SHELLS, resolveShell } from './shell.ts';
export { CONTAINMENTS } from './types.ts';
export { findDrivers, type FoundDrivers } from './drivers.ts';
export { SecretSourceError } from './secret-task.ts';
export { containmentPlan } from './containment.ts';
export { describeStepInit, setStepInitDir, type StepInit } from './step-init-binary.ts';
export { sandboxPlan, type SandboxPlan } from './sandbox.ts';
export {
  describeLimits,
  limitsSupport,
  parseCpuLimit,
  parseMemoryLimit,
  parsePidsLimit,
  removeRunnerCgroups,
  type LimitsSupport,
} from './cgroups.ts';
export type {
  Containment,
  Deadman,
  Driver,
  EngineOptions,
  LogEvent,
  StepEvent,
  StepResult,
  StepStatus,
  TaskOutcome,
  OutcomeReason,
  SecretFetchContext,
  SecretSource,
} from './types.ts';
