// The init of a contained step: the bash program that runs as pid 1 of the step's own pid and mount
// namespaces, between `unshare` and the step. Under namespace containment the compiled init/baton-init.c
// keeps this same contract in one program and runs instead wherever it can be built (step-init-binary.ts,
// docs/adr/0022-step-init-in-c.md); this one runs inside every sandbox and wherever gcc is missing. A change
// to the contract is a change to both. It owns three things no task may reach or change:
//
// 1. The task's view of the machine. Before anything of the task runs it applies a mount table the runner
//    wrote where no task can open it (`mount --all --fstab FILE`, one process for every mount): the other
//    tasks' work dirs disappear under an empty tmpfs (the task's own two dirs are bound back from descriptors
//    opened before), the runner's state dir, config and token files are covered, and /tmp is the task's own.
// 2. The hand-over. The step's environment (secrets included) arrives through an inherited pipe on fd 0 as
//    NUL-terminated NAME=VALUE entries ended by an empty entry, never through argv or a file. Only when the
//    mounts are in place and the whole environment arrived does the step's shell say `ready` on fd 4, an
//    inherited pipe back to the runner; a step that never said it never ran and cannot report success.
// 3. The lease. With a dead-man's switch (`$1` ms, `inf` for none but a control channel, else `-`), a
//    watchdog inside the namespace waits on fd 3 for renewals: each line is the time left in ms (or `inf`).
//    If none arrives in time, or fd 3 ends (the runner is gone), it kills every process of the namespace,
//    without the runner's help: a frozen runner cannot overlap its own retry. A line `term <left>` sends
//    SIGTERM to the step's process group: in a sandbox the step has a session of its own (no TIOCSTI), so
//    the runner's group signal cannot reach it and the cancel's first, polite signal travels this way.
//
// 4. The step's powers. Under a mount table the step is exec'd through `setpriv --bounding-set` without
//    CAP_SYS_ADMIN, CAP_SYS_MODULE and CAP_SYS_RAWIO, so a root step cannot unmount what hides the runner.
//
// The init runs with an environment of PATH only and bash's privileged mode (`-p`: no BASH_ENV, no functions
// or SHELLOPTS from the environment), so nothing of the task's can change what it does. Its own stderr goes
// to /dev/null (bash's "Killed" notes); the step gets the original stderr back from fd 5.
//
// Arguments: $1 dead-man ms, `inf` or `-`; $2 the fstab to apply or `-`; $3 workspace, $4 Baton's dir of the task
// (bound back over the covered work root from descriptors 7 and 8; its tmp/ is bound over /tmp from 9); $5 the step's cwd; then the step's argv.
// Exit: the step's status; 125 (with `fail <why>` on fd 4) when the set-up failed before the step ran.

export const STEP_INIT = String.raw`
IFS=$' \t\n'
exec 5>&2 2>/dev/null
drop=
for dir in /usr/bin /bin /usr/sbin /sbin; do [ -x "$dir/setpriv" ] && { drop=$dir/setpriv; break; }; done
fail() { printf 'fail %s\n' "$*" >&4; exit 125; }
deadman=$1 fstab=$2 workspace=$3 internal=$4 cwd=$5
shift 5
if [ "$fstab" != - ]; then
  exec 7<"$workspace" 8<"$internal" 9<"$internal/tmp" || fail "cannot open the task's work dir"
  out=$(mount --all --fstab "$fstab" 2>&1) || fail "cannot hide the runner's files and other tasks from the step: $out"
  exec 7<&- 8<&- 9<&-
fi
if [ "$deadman" != - ]; then
  {
    trap '' TERM INT HUP QUIT
    left=$deadman
    while
      if [ "$left" = inf ]; then IFS= read -r -u 3 line
      else printf -v secs '%d.%03d' $((left / 1000)) $((left % 1000)); IFS= read -r -t "$secs" -u 3 line; fi
    do
      case $line in
        'term '*) left=${'$'}{line#term }; kill -TERM 0 ;;
        *) left=$line ;;
      esac
      case $left in inf) ;; '' | *[!0-9]*) break ;; esac
    done
    printf '[baton] the lease was not renewed in time: the dead-man switch kills the step\n' >&5
    kill -KILL -1
  } 4>&- &
fi
exec 3<&-
# The step's group gets SIGTERM from the watchdog ("term", sandbox) or the runner; the init outlives it to
# report the step's status. A handler, not an ignore: the step itself starts with SIGTERM's default.
trap : TERM
(
  export -n PATH PWD OLDPWD SHLVL
  unset PATH OLDPWD
  odd=()
  complete=
  while IFS= read -r -d '' entry; do
    if [ -z "$entry" ]; then complete=1; break; fi
    case $entry in
      [A-Za-z_]*=*) name=${'$'}{entry%%=*}
        case $name in *[!A-Za-z0-9_]*) odd+=("$entry") ;; *) export -- "$entry" ;; esac ;;
      *) odd+=("$entry") ;;
    esac
  done
  [ -n "$complete" ] || fail "the step's environment did not arrive whole"
  cd -- "$cwd" || fail "cannot enter the step's working directory"
  printf 'ready\n' >&4
  exec 4>&- 0</dev/null 2>&5 5>&-
  # A root step keeps root's powers over its own files, but not the ones that would undo its view of the
  # machine (umount, new mounts, setns: CAP_SYS_ADMIN) or reach past the kernel (modules, raw I/O ports).
  cage=()
  if [ "$fstab" != - ] && [ -n "$drop" ]; then cage=("$drop" --bounding-set -sys_admin,-sys_module,-sys_rawio --); fi
  # Names sh cannot export (a dot, a dash) go through env(1).
  if [ ${'$'}{#odd[@]} -gt 0 ]; then exec "${'$'}{cage[@]}" /usr/bin/env -- "${'$'}{odd[@]}" "$@"; fi
  exec -- "${'$'}{cage[@]}" "$@"
)
exit $?
`;

/** The command that runs the init, the last part of every chain that starts a step under it (host or sandbox). */
export function initCommand(bash: string): string[] {
  return [bash, '--noprofile', '--norc', '-p', '-c', STEP_INIT, 'baton-step-init'];
}
