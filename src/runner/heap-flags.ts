// The V8 heap settings of the runner's long-lived processes (`baton runner start`, the pool's slot runners),
// given on their command line: V8 sizes its generations when the heap is created, so they cannot be set from
// inside the process (v8.setFlagsFromString comes too late). bin/baton.js re-executes `runner start` with
// them; the pool starts its slots with them. docs/adr/0020-runner-heap-and-log-backpressure.md has the figures.
//
// Why these two: a runner streaming a log at full speed allocates fast, and V8 answers a high allocation rate
// by growing the young generation (to 64 MiB here) and letting promoted garbage build up in the old one before
// a full collection. A 1 MiB semi-space and a 1.2× old-generation growing factor keep a 200 MiB log's peak near
// 105 MiB instead of 185 (idle is ~78).

/** Flags added to the runner's node, each with the flags that mean the user already decided that setting. */
const RUNNER_HEAP_FLAGS: readonly { flag: string; decidedBy: readonly string[] }[] = [
  // --max-heap-size sizes the young generation too, and V8 refuses it beside both space sizes.
  { flag: '--max-semi-space-size=1', decidedBy: ['--max-semi-space-size', '--max-heap-size'] },
  { flag: '--heap-growing-percent=20', decidedBy: ['--heap-growing-percent'] },
];

/** `--max_semi_space_size=4` and `--max-semi-space-size 4` both name `--max-semi-space-size`. */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replaceAll('_', '-');
}

/**
 * The runner heap flags this process was not started with. A setting the user made — on node's command line
 * (`execArgv`) or in NODE_OPTIONS — is theirs and is never overridden (a command-line flag would win over
 * NODE_OPTIONS). Empty when nothing is missing, which also ends a re-execution.
 */
export function missingHeapFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName));
  return RUNNER_HEAP_FLAGS.filter((f) => !f.decidedBy.some((name) => given.has(name))).map((f) => f.flag);
}
