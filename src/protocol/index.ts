// The wire contract between CLI, UI, runner and server.
export * from './status.ts';
export * from './plan.ts';
export * from './errors.ts';
export * from './api.ts';
export * from './sealed.ts';
export * from './task-types.ts';
export * from './cache.ts';
