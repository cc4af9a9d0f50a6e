// The runner agent: config, registration, acquire loop, lease keeper, log shipper.
export { Agent, type AgentOptions, type RunnerLogger } from './agent.ts';
export {
  loadRunnerConfig,
  siblingRunnerConfigs,
  writeRunnerConfig,
  writeTokenFile,
  tokenFileProblem,
  RUNNER_CONFIG_KEYS,
  DEFAULT_CONFIG_PATH,
  RunnerConfigError,
  ISOLATIONS,
  NETWORKS,
  parseIsolation,
  parseNetwork,
  networkProblem,
  type RunnerNetwork,
  type Isolation,
  type RunnerConfig,
  type RunnerConfigFile,
} from './config.ts';
export { loadEnvFile, parseEnvFile, withoutBatonSettings } from './env-file.ts';
export { proveIsolation, type RunnerIsolation } from './isolation.ts';
