// The control plane: HTTP API, scheduler, dispatch, reaper.
export {
  buildServerConfig,
  printableConfig,
  redactDatabaseUrl,
  SERVER_DEFAULTS,
  SETTINGS,
  type ServerConfig,
  type ServerOptions,
} from './config.ts';
export { loadServerConfigFile, ConfigFileError, CONFIG_FILE_MAX_BYTES } from './config-file.ts';
export { createServer, type ServerDeps } from './app.ts';
export { startServer, type StartedServer } from './start.ts';
export { generateToken, hashToken, TOKEN_PREFIX } from './tokens.ts';
export { WORKFLOW_POLICY } from './policy.ts';
export {
  checkDispatchers,
  DEFAULT_DISPATCHERS,
  dispatcherKinds,
  EMBEDDED_DISPATCHERS,
  registerDispatcher,
  type DispatcherModule,
  type Dispatcher,
  type DispatchOptions,
  type EmbeddedExecutor,
  type RunningExecutor,
} from './dispatchers/index.ts';
