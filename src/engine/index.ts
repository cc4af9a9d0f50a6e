// The engine's public face: run one task on this machine (no network, no database).
export { runTask, DEFAULT_CANCEL_GRACE_MS } from './run-task.ts';
export { SUPPORTED_SHELLS, resolveShell } from './shell.ts';
export { CONTAINMENTS } from './types.ts';
export type {
  Containment,
  EngineOptions,
  LogEvent,
  StepEvent,
  StepResult,
  StepStatus,
  TaskOutcome,
  OutcomeReason,
} from './types.ts';
