// The runner session's frames as TypeBox schemas, for the server's checks (the contract: session.ts). Apart
// from session.ts so that the runner, which only builds frames, loads no schema code.
import { Type } from '@sinclair/typebox';
import type { SessionFrameType } from './session.ts';

const CallId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Lease = Type.String({ pattern: '^[0-9a-f]{32}$' });
const WaitMs = Type.Integer({ minimum: 0, maximum: 3_600_000 });

/**
 * The shape of each runner frame (RunnerFrame in session.ts), by type; `complete`'s body is checked against
 * CompleteBody on its own.
 */
export const RUNNER_FRAME_SCHEMAS = {
  acquire: Type.Object(
    { t: Type.Literal('acquire'), id: CallId, waitMs: WaitMs },
    { additionalProperties: false },
  ),
  start: Type.Object({ t: Type.Literal('start'), id: CallId, lease: Lease }, { additionalProperties: false }),
  heartbeat: Type.Object(
    { t: Type.Literal('heartbeat'), id: CallId, lease: Lease },
    { additionalProperties: false },
  ),
  complete: Type.Object(
    {
      t: Type.Literal('complete'),
      id: CallId,
      lease: Lease,
      body: Type.Unknown(),
      next: Type.Optional(Type.Object({ id: CallId, waitMs: WaitMs }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
  release: Type.Object({ t: Type.Literal('release') }, { additionalProperties: false }),
} as const satisfies Record<SessionFrameType, unknown>;
