// The local dispatcher: the embedded runner of `baton run`. It is a pull runner in this very process, reached
// over loopback HTTP — the same code path as production (DESIGN.md; docs/adr/0015 measured why it stays that
// way). What this module owns is its lifecycle: once the server listens it mints a one-use registration token,
// hands it to the embedded executor the program gave the server (the server may not import the runner), and
// when the server closes it stops that executor and waits for it before the server goes away.
import { generateToken, hashToken } from '../tokens.ts';
import type { DispatcherModule, RunningExecutor } from './types.ts';

/** The one-use registration token is good for this long; the embedded runner registers at once. */
const LOCAL_REGISTRATION_TTL_MS = 60_000;

export const localDispatcher: DispatcherModule = {
  kind: 'local',
  description: 'the runner embedded in this process (`baton run`), a pull runner on loopback',
  requires: ['pull'],
  create(ctx, options) {
    const embedded = options.embedded;
    if (!embedded)
      throw new Error(
        "the 'local' dispatcher needs an embedded executor: only a program that embeds the server (`baton run`) can configure it",
      );
    let running: RunningExecutor | undefined;
    return {
      kind: 'local',
      async start(server) {
        const registrationToken = generateToken('registration');
        const now = ctx.now();
        await ctx.store.credentials.insertToken({
          kind: 'registration',
          name: 'local runner',
          hash: hashToken(registrationToken),
          created_at: now,
          expires_at: now + LOCAL_REGISTRATION_TTL_MS,
          single_use: 1,
        });
        running = await embedded.launch({ url: server.url, registrationToken });
      },
      async stop() {
        running?.stop();
        await running?.done;
        running = undefined;
      },
      // Its runner is a pull runner: the pull dispatcher already explains it.
    };
  },
};
