// The registry of ways a task reaches an executor (docs/dispatchers.md). The server composes its configured set
// (`--dispatchers`, BATON_DISPATCHERS; default pull and push) from here, and nothing outside this folder names a
// concrete dispatcher: a new way to execute is one new module registered with registerDispatcher.
import type { ServerContext } from '../context.ts';
import type { Dispatcher, DispatcherModule, DispatchOptions } from './types.ts';
import { pullDispatcher } from './pull.ts';
import { pushDispatcher } from './push.ts';
import { localDispatcher } from './local.ts';

export type {
  Dispatcher,
  DispatcherModule,
  DispatchOptions,
  EmbeddedExecutor,
  ListeningServer,
  PendingCandidate,
  PendingReason,
  RunningExecutor,
} from './types.ts';
export { missingGifts } from './pending.ts';

/** What a server runs when nothing says otherwise. */
export const DEFAULT_DISPATCHERS: readonly string[] = ['pull', 'push'];
/** `baton run`: the defaults and its embedded runner. */
export const EMBEDDED_DISPATCHERS: readonly string[] = [...DEFAULT_DISPATCHERS, 'local'];

const KIND = /^[a-z][a-z0-9-]{0,31}$/;
const modules = new Map<string, DispatcherModule>();

/** Adds a way to execute; returns its removal (for tests). A kind can be registered once. */
export function registerDispatcher(module: DispatcherModule): () => void {
  if (!KIND.test(module.kind))
    throw new Error(
      `dispatcher kind '${module.kind}' must be 1 to 32 lowercase letters, digits or dashes, starting with a letter`,
    );
  if (modules.has(module.kind))
    throw new Error(`a dispatcher of kind '${module.kind}' is already registered`);
  modules.set(module.kind, module);
  return () => {
    if (modules.get(module.kind) === module) modules.delete(module.kind);
  };
}

/** The registered kinds, with their one-line descriptions. */
export function dispatcherKinds(): Array<{ kind: string; description: string }> {
  return [...modules.values()].map((m) => ({ kind: m.kind, description: m.description }));
}

/**
 * Checks a configured list (`where` names the setting, for the message): every kind registered, none twice,
 * every kind's requirements present. Throws naming the value and what is allowed.
 */
export function checkDispatchers(kinds: readonly string[], where: string): void {
  if (kinds.length === 0)
    throw new Error(`${where} names no dispatcher; known: ${[...modules.keys()].join(', ')}`);
  const seen = new Set<string>();
  for (const kind of kinds) {
    const m = modules.get(kind);
    if (!m)
      throw new Error(`${where}: unknown dispatcher '${kind}'; known: ${[...modules.keys()].join(', ')}`);
    if (seen.has(kind)) throw new Error(`${where}: dispatcher '${kind}' is named twice`);
    seen.add(kind);
  }
  for (const kind of kinds)
    for (const needed of modules.get(kind)!.requires ?? [])
      if (!seen.has(needed))
        throw new Error(`${where}: dispatcher '${kind}' needs '${needed}' configured beside it`);
}

/** One server's dispatchers, in the configured order (started in it, stopped in reverse). */
export function composeDispatchers(
  ctx: ServerContext,
  kinds: readonly string[],
  options: DispatchOptions = {},
): Dispatcher[] {
  checkDispatchers(kinds, 'the dispatchers setting (--dispatchers, BATON_DISPATCHERS)');
  return kinds.map((kind) => modules.get(kind)!.create(ctx, options));
}

registerDispatcher(pullDispatcher);
registerDispatcher(pushDispatcher);
registerDispatcher(localDispatcher);
