// Commands that name a runner, push runner, token or run accept its id or its name. An id always wins; a
// name that several share is refused listing their ids (exit 2); nothing found is exit 1. A run's name means
// the latest run of that workflow name.
import { ApiError, type BatonClient } from '../client/index.ts';
import { CliError, EXIT } from './common.ts';

interface Named {
  id: string;
  name?: string | null;
}

/** The one item whose id is `which`, else the one whose name is; errors name the kind and the way to list them. */
export function pickByIdOrName<T extends Named>(
  items: T[],
  which: string,
  kind: string,
  listWith: string,
): T {
  const byId = items.find((item) => item.id === which);
  if (byId !== undefined) return byId;
  const named = items.filter((item) => item.name === which);
  if (named.length > 1)
    throw new CliError(
      `${named.length} ${kind}s are named '${which}': give one of their ids (${named.map((n) => n.id).join(', ')})`,
      EXIT.usage,
    );
  if (named[0] === undefined)
    throw new CliError(`no ${kind} has the id or name '${which}'; see \`${listWith}\``, EXIT.failed);
  return named[0];
}

export async function resolveRunner(client: BatonClient, which: string): Promise<string> {
  const { runners } = await client.listRunners();
  return pickByIdOrName(runners, which, 'runner', 'baton runners list').id;
}

export async function resolvePushRunner(client: BatonClient, which: string): Promise<string> {
  const { runnerHosts } = await client.listPushRunners();
  return pickByIdOrName(runnerHosts, which, 'push runner', 'baton push-runners list').id;
}

export async function resolveToken(client: BatonClient, which: string): Promise<string> {
  const { tokens } = await client.listTokens();
  const items = tokens.map((t) => ({ id: String(t.id), name: typeof t.name === 'string' ? t.name : null }));
  return pickByIdOrName(items, which, 'token', 'baton token list').id;
}

/** A run id as given, or the latest run whose workflow name is exactly `which`. */
export async function resolveRun(client: BatonClient, which: string): Promise<string> {
  try {
    return (await client.getRun(which)).id;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  const { runs } = await client.listRuns({ name: which, limit: 100 });
  const latest = runs
    .filter((r) => r.name === which)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
  if (latest === undefined)
    throw new CliError(`no run has the id or workflow name '${which}'; see \`baton runs list\``, EXIT.failed);
  return latest.id;
}
