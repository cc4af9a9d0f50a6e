// Limits of API queries that clients (the CLI, the web UI) also enforce before asking. No imports: the web UI
// takes these without pulling in the TypeBox schemas.

/** The longest name filter `GET /api/v1/runs?name=` takes: longer ones are refused with 400 naming it. */
export const RUN_NAME_FILTER_MAX_CHARS = 200;

/** How many recently finished tasks `GET /api/v1/runners/:id` lists, by default and at most. */
export const RUNNER_RECENT_TASKS_DEFAULT = 20;
export const RUNNER_RECENT_TASKS_MAX = 100;
