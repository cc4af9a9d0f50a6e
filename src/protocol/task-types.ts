// Task types: the built-in ones every runner runs, and the grammar of a custom type, which only a runner with a
// driver of that name (a CGI program in its drivers directory, docs/drivers.md) can run.

/** Types every runner runs without a driver of its own (`exec` runs steps; the others are the engine's). */
export const BUILT_IN_TASK_TYPES = ['exec', 'expression', 'secret'] as const;

/** A custom type's name: it is a file name in a runner's drivers directory, so nothing that could leave it. */
export const CUSTOM_TASK_TYPE_PATTERN = '^[a-z][a-z0-9_-]*$';
/** Long enough for any real name, short enough for a file name with `.cgi` and a tidy status report. */
export const CUSTOM_TASK_TYPE_MAX_CHARS = 64;
/** Custom types one runner may advertise, and one workflow may declare under `drivers:`. */
export const DRIVERS_MAX = 100;
/** A driver's version as a runner advertises it: `sha256:` and 64 hex digits of the executable's bytes. */
export const DRIVER_VERSION_MAX_CHARS = 80;

const CUSTOM = new RegExp(CUSTOM_TASK_TYPE_PATTERN);

/** True for a name that is not built in: tasks of that type need a runner that advertises its driver. */
export function isCustomTaskType(type: string): boolean {
  return !(BUILT_IN_TASK_TYPES as readonly string[]).includes(type);
}

/** Why `name` cannot be a custom type, or undefined when it can. */
export function customTypeProblem(name: string): string | undefined {
  if (name.length > CUSTOM_TASK_TYPE_MAX_CHARS)
    return `is ${name.length} characters; the limit is ${CUSTOM_TASK_TYPE_MAX_CHARS}`;
  if (!CUSTOM.test(name))
    return 'is not a valid driver name; use lower-case letters, digits, _ and -, starting with a letter';
  return undefined;
}
