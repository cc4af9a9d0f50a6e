// baton-init: the init of a contained step, in one small program instead of the chain
// setpriv --pdeathsig → unshare --pid --fork --mount-proc → bash (step-init.ts) → mount --all → setpriv
// --bounding-set. The runner builds it with gcc on first use (step-init-binary.ts) and runs it exactly where
// the chain ran: same arguments, same descriptors, same answers (docs/adr/0022-step-init-in-c.md).
//
// Arguments: deadman (ms, `inf` or `-`), the mount table (`-` for none, the path of an fstab file, or
// `table:` followed by the fstab text itself, which spares the runner a file per task: it holds only paths, all
// of which the step can read in its own /proc/self/mountinfo anyway), workspace, Baton's dir of the task, the
// step's cwd, then the step's argv. Descriptors: 0 the step's environment (NUL-terminated NAME=VALUE entries ended by
// an empty one), 1 and 2 the step's output, 3 lease renewals (a line per renewal: ms left, `inf`, or
// `term <ms left>`), 4 the answer back to the runner (`ready` or `fail <why>`).
//
// Two processes: the first (the runner's child, the leader of the step's process group) dies with the runner
// (PDEATHSIG), makes the pid and mount namespaces and waits; the second is pid 1 of the new pid namespace. It
// mounts a /proc of its own, applies the task's mount table, takes the environment, confirms the start, forks
// the step, reaps every orphan, and watches the lease. When the step's main process ends, pid 1 exits with its
// status and the kernel kills every process left in the namespace (setsid, nohup, double forks).
//
// Held (`baton-init --held`, docs/adr/0024-held-step-init.md): started by the runner before its task exists, it
// takes the same arguments as NUL-terminated entries ended by an empty one on fd 0, ahead of the environment,
// and then goes on exactly as above. Until they arrive it has done nothing but wait.
//
// Host (`baton-init --host`, docs/adr/0025-init-host.md): started once by the runner with Node's IPC channel on
// fd 3 (NODE_CHANNEL_FD), it starts held inits on request so that the runner never forks itself on a task's
// path. For each `{"hold":N}` line it makes five socket pairs and forks a held init on one end of each (in a
// session of its own, cwd /, PATH only, as the runner's own spawn did; the fork goes on as `--held` would
// without a new exec, which cost a millisecond of CPU per task), and passes the other ends to the runner
// one per message, as Node passes a net.Socket (`NODE_HANDLE`, answered by `NODE_HANDLE_ACK`; all five sent
// before the answers are awaited), closing its copies. It reaps the inits and reports each end as
// `{"exit":PID,"code":C,"signal":S}`, also while a hand-over waits for its answers. It dies with the
// runner (PDEATHSIG), and the held inits, which die with their parent, die with it.
//
// Exit: the step's status (128 + signal when it was killed); 125 with `fail <why>` on fd 4 when the set-up
// failed before the step ran.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ENV_FD = 0, RENEW_FD = 3, ANSWER_FD = 4, SETUP_FAILED = 125 };

/** The descriptors the mount table binds back over the covered work root (containment.ts writeMountTable). */
enum { WORKSPACE_FD = 7, INTERNAL_FD = 8, TEMP_FD = 9 };

/** The most of one renewal line or of the environment kept; the runner's own limits are far below. */
enum { MAX_LINE_BYTES = 256 };
#define MAX_ENV_BYTES (16u * 1024 * 1024)

static void fail(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));

/** Tells the runner why the step never started and ends the set-up: the step did not run. */
static void fail(const char *format, ...) {
  char text[2048];
  int n = snprintf(text, sizeof text, "fail ");
  va_list args;
  va_start(args, format);
  n += vsnprintf(text + n, sizeof text - (size_t)n - 1, format, args);
  va_end(args);
  if (n > (int)sizeof text - 2) n = (int)sizeof text - 2;
  text[n++] = '\n';
  ssize_t ignored = write(ANSWER_FD, text, (size_t)n);
  (void)ignored;
  _exit(SETUP_FAILED);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** fstab fields: blanks separate them, `\ooo` octal escapes stand for a blank, a tab, a newline or `\`. */
static char *next_field(char **cursor) {
  char *p = *cursor;
  while (*p == ' ' || *p == '\t') p++;
  if (*p == '\0' || *p == '\n') return NULL;
  char *start = p, *out = p;
  while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n') {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 4;
    } else {
      *out++ = *p++;
    }
  }
  if (*p != '\0') p++;
  *out = '\0';
  *cursor = p;
  return start;
}

/** mkdir -p with mode 0755, as libmount's X-mount.mkdir. */
static int make_dirs(const char *path) {
  char copy[4096];
  if (strlen(path) >= sizeof copy) return errno = ENAMETOOLONG, -1;
  strcpy(copy, path);
  for (char *p = copy + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(copy, 0755) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(copy, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

/** One fstab line applied with mount(2); returns 0, or -1 with `why` filled in. */
static int mount_entry(char *line, char *why, size_t why_size) {
  char *cursor = line;
  char *source = next_field(&cursor);
  if (source == NULL || source[0] == '#') return 0;
  char *target = next_field(&cursor), *type = next_field(&cursor), *options = next_field(&cursor);
  if (target == NULL || type == NULL) {
    snprintf(why, why_size, "a mount table line without a target or type: %s", source);
    return -1;
  }
  unsigned long flags = 0;
  int mkdir_first = 0;
  char data[1024] = "";
  size_t data_len = 0;
  for (char *option = options == NULL ? NULL : strtok(options, ","); option != NULL; option = strtok(NULL, ",")) {
    if (strcmp(option, "ro") == 0) flags |= MS_RDONLY;
    else if (strcmp(option, "rw") == 0) flags &= ~(unsigned long)MS_RDONLY;
    else if (strcmp(option, "nosuid") == 0) flags |= MS_NOSUID;
    else if (strcmp(option, "nodev") == 0) flags |= MS_NODEV;
    else if (strcmp(option, "noexec") == 0) flags |= MS_NOEXEC;
    else if (strcmp(option, "bind") == 0) flags |= MS_BIND;
    else if (strcmp(option, "rbind") == 0) flags |= MS_BIND | MS_REC;
    else if (strcmp(option, "remount") == 0) flags |= MS_REMOUNT;
    else if (strcmp(option, "noauto") == 0) return 0;
    else if (strcmp(option, "defaults") == 0) continue;
    else if (strncmp(option, "X-mount.mkdir", 13) == 0) mkdir_first = 1;
    else if (strncmp(option, "X-", 2) == 0 || strncmp(option, "x-", 2) == 0) continue;
    else {
      size_t len = strlen(option);
      if (data_len + len + 2 > sizeof data) {
        snprintf(why, why_size, "the options of %s are too long", target);
        return -1;
      }
      if (data_len > 0) data[data_len++] = ',';
      memcpy(data + data_len, option, len + 1);
      data_len += len;
    }
  }
  if (mkdir_first && make_dirs(target) != 0) {
    snprintf(why, why_size, "cannot make the mount point %s: %s", target, strerror(errno));
    return -1;
  }
  const char *fs = strcmp(type, "none") == 0 ? NULL : type;
  // A bind remount keeps the flags the mount already has (nosuid, nodev, noexec, atime), as mount(8) does.
  struct statvfs current;
  if ((flags & MS_REMOUNT) && (flags & MS_BIND) && statvfs(target, &current) == 0)
    flags |= current.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
  // A read-only bind is two calls, as mount(8) makes it: the bind, then its remount read-only.
  unsigned long first = (flags & MS_BIND) && !(flags & MS_REMOUNT) ? flags & ~(unsigned long)MS_RDONLY : flags;
  if (mount(source, target, fs, first, data_len > 0 ? data : NULL) != 0 ||
      (first != flags && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)), NULL) != 0)) {
    snprintf(why, why_size, "mount %s on %s (%s): %s", source, target, type, strerror(errno));
    return -1;
  }
  return 0;
}

/** Opens `path` as descriptor `fd` exactly (the mount table names /proc/self/fd/<fd>). */
static int open_at(const char *path, int fd) {
  int opened = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (opened < 0) return -1;
  int moved = fcntl(opened, F_DUPFD_CLOEXEC, 10);
  close(opened);
  if (moved < 0) return -1;
  if (dup2(moved, fd) < 0) return -1;
  close(moved);
  return 0;
}

/** The task's view: its mount table applied before anything of the task runs. */
static void apply_mount_table(const char *fstab, const char *workspace, const char *internal) {
  char temp[4096];
  if ((size_t)snprintf(temp, sizeof temp, "%s/tmp", internal) >= sizeof temp) fail("the task's work dir path is too long");
  if (open_at(workspace, WORKSPACE_FD) != 0 || open_at(internal, INTERNAL_FD) != 0 || open_at(temp, TEMP_FD) != 0)
    fail("cannot open the task's work dir");
  static const char inline_prefix[] = "table:";
  int inline_table = strncmp(fstab, inline_prefix, sizeof inline_prefix - 1) == 0;
  const char *text = fstab + sizeof inline_prefix - 1;
  FILE *table = inline_table ? fmemopen((void *)text, strlen(text), "r") : fopen(fstab, "re");
  if (table == NULL)
    fail("cannot hide the runner's files and other tasks from the step: cannot read %s: %s",
         inline_table ? "the mount table" : fstab, strerror(errno));
  char *line = NULL;
  size_t size = 0;
  char why[1536];
  while (getline(&line, &size, table) >= 0) {
    if (mount_entry(line, why, sizeof why) != 0) fail("cannot hide the runner's files and other tasks from the step: %s", why);
  }
  free(line);
  fclose(table);
  close(WORKSPACE_FD);
  close(INTERNAL_FD);
  close(TEMP_FD);
}

/** The environment as it arrives on fd 0; complete once an empty entry was read. */
struct environment {
  char *bytes;
  size_t length, capacity, scanned;
  int complete;
  /** Read past the empty entry: what follows the list on fd 0. */
  char *rest;
  size_t rest_length;
};

/** A held init's environment as far as it arrived together with its arguments (main). */
static struct environment early_environment;

/**
 * Entries end with NUL; an empty one (a NUL right after the previous entry's) ends the list. Bytes past it
 * (the environment, behind a held init's arguments) are kept in `rest`/`rest_length`.
 */
static void scan_environment(struct environment *env) {
  while (!env->complete && env->scanned < env->length) {
    char *end = memchr(env->bytes + env->scanned, '\0', env->length - env->scanned);
    if (end == NULL) break;
    size_t at = (size_t)(end - env->bytes);
    if (at == env->scanned) {
      env->complete = 1;
      env->rest = env->bytes + at + 1;
      env->rest_length = env->length - at - 1;
      env->length = at;
      return;
    }
    env->scanned = at + 1;
  }
}

/** Reads what fd 0 has; returns -1 when it ended before the empty entry. */
static int read_environment(struct environment *env) {
  if (env->capacity - env->length < 65536) {
    size_t grown = env->capacity == 0 ? 262144 : env->capacity * 2;
    if (grown > MAX_ENV_BYTES + 65536) fail("the step's environment is larger than %u bytes", MAX_ENV_BYTES);
    char *bytes = realloc(env->bytes, grown);
    if (bytes == NULL) fail("out of memory reading the step's environment");
    env->bytes = bytes;
    env->capacity = grown;
  }
  ssize_t n = read(ENV_FD, env->bytes + env->length, env->capacity - env->length);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  if (n == 0) return -1;
  env->length += (size_t)n;
  scan_environment(env);
  return 0;
}

/** NAME=VALUE entries as an envp; an entry without `=` is no variable and is dropped. */
static char **environment_list(struct environment *env) {
  size_t count = 0;
  for (size_t i = 0; i < env->length; i++)
    if (env->bytes[i] == '\0') count++;
  char **list = calloc(count + 1, sizeof *list);
  if (list == NULL) fail("out of memory reading the step's environment");
  size_t n = 0;
  for (size_t at = 0; at < env->length; at += strlen(env->bytes + at) + 1)
    if (strchr(env->bytes + at, '=') != NULL) list[n++] = env->bytes + at;
  return list;
}

/** The step's PATH decides where a bare command name is found, as the shell's exec did. */
static void exec_step(char **argv, char **envp) {
  const char *command = argv[0];
  if (strchr(command, '/') != NULL) {
    execve(command, argv, envp);
  } else {
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char **e = envp; *e != NULL; e++)
      if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    int seen_eacces = 0;
    char candidate[4096];
    for (const char *p = path;; p++) {
      const char *colon = strchrnul(p, ':');
      int len = (int)(colon - p);
      if (snprintf(candidate, sizeof candidate, "%.*s%s%s", len, p, len == 0 ? "" : "/", command) < (int)sizeof candidate) {
        execve(candidate, argv, envp);
        if (errno == EACCES) seen_eacces = 1;
      }
      if (*colon == '\0') break;
      p = colon;
    }
    if (seen_eacces) errno = EACCES;
  }
  int error = errno;
  dprintf(2, "baton-init: cannot run %s: %s\n", command, strerror(error));
  _exit(error == ENOENT ? 127 : 126);
}

/** The lease's state as the renewals on fd 3 set it. */
struct lease {
  int watching;      /* fd 3 is read */
  long long deadline; /* monotonic ms; -1 for none (`inf`) */
  char line[MAX_LINE_BYTES];
  size_t line_length;
};

static int parse_left(const char *text, long long *left) {
  if (strcmp(text, "inf") == 0) return *left = -1, 0;
  if (*text == '\0') return -1;
  long long value = 0;
  for (const char *p = text; *p != '\0'; p++) {
    if (*p < '0' || *p > '9' || value > 1000000000000LL) return -1;
    value = value * 10 + (*p - '0');
  }
  return *left = value, 0;
}

/** The dead-man's switch: the runner stopped renewing (or is gone): every process of the namespace dies. */
static void expire(struct lease *lease) {
  static const char note[] = "[baton] the lease was not renewed in time: the dead-man switch kills the step\n";
  ssize_t ignored = write(2, note, sizeof note - 1);
  (void)ignored;
  kill(-1, SIGKILL);
  lease->watching = 0;
  close(RENEW_FD);
}

/** Reads renewal lines; returns -1 when the switch must fire (fd 3 ended, or a line that is no time). */
static int read_renewals(struct lease *lease) {
  char chunk[512];
  ssize_t n = read(RENEW_FD, chunk, sizeof chunk);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  if (n == 0) return -1;
  for (ssize_t i = 0; i < n; i++) {
    if (chunk[i] != '\n') {
      if (lease->line_length < MAX_LINE_BYTES - 1) lease->line[lease->line_length++] = chunk[i];
      continue;
    }
    lease->line[lease->line_length] = '\0';
    lease->line_length = 0;
    const char *text = lease->line;
    if (strncmp(text, "term ", 5) == 0) {
      // The cancel's polite signal, for a step the runner's group signal cannot reach (ADR 0007).
      text += 5;
      kill(0, SIGTERM);
    }
    long long left;
    if (parse_left(text, &left) != 0) return -1;
    lease->deadline = left < 0 ? -1 : now_ms() + left;
  }
  return 0;
}

/** Pid 1 of the step's namespace. */
static int init_main(char **argv, const sigset_t *original_mask) {
  const char *deadman = argv[1], *fstab = argv[2], *workspace = argv[3], *internal = argv[4], *cwd = argv[5];
  char **command = argv + 6;
  // The runner's death reaches pid 1 directly, as unshare --kill-child did: then the whole namespace dies.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // No mount of the step's reaches the host; /proc shows the namespace's processes only.
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) fail("cannot make the step's mounts private: %s", strerror(errno));
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL) != 0)
    fail("cannot mount /proc for the step: %s", strerror(errno));
  int table = strcmp(fstab, "-") != 0;
  if (table) {
    apply_mount_table(fstab, workspace, internal);
    // A root step keeps root's powers over its own files, but not the ones that would undo its view of the
    // machine (umount, new mounts, setns: CAP_SYS_ADMIN) or reach past the kernel (modules, raw I/O ports).
    if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0 || prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) != 0 ||
        prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0) != 0)
      fail("cannot drop CAP_SYS_ADMIN, CAP_SYS_MODULE and CAP_SYS_RAWIO from the step's bounding set: %s", strerror(errno));
  }

  struct lease lease = {.watching = strcmp(deadman, "-") != 0, .deadline = -1};
  if (lease.watching) {
    long long left;
    if (parse_left(deadman, &left) != 0) fail("the dead-man's switch time is not a number of ms: %s", deadman);
    lease.deadline = left < 0 ? -1 : now_ms() + left;
  } else {
    close(RENEW_FD);
  }

  sigset_t child_signals;
  sigemptyset(&child_signals);
  sigaddset(&child_signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child_signals, NULL);
  int children = signalfd(-1, &child_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (children < 0) fail("cannot watch the step's processes: %s", strerror(errno));

  struct environment env = early_environment;
  scan_environment(&env);
  pid_t step = 0;
  for (;;) {
    if (env.complete && step == 0) {
      char **envp = environment_list(&env);
      if (chdir(cwd) != 0) fail("cannot enter the step's working directory");
      step = fork();
      if (step < 0) fail("cannot start the step: %s", strerror(errno));
      if (step == 0) {
        close(children);
        if (lease.watching) close(RENEW_FD);
        close(ANSWER_FD);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != ENV_FD) dup2(null, ENV_FD), close(null);
        sigprocmask(SIG_SETMASK, original_mask, NULL);
        exec_step(command, envp);
      }
      // Only now does the step count as started: mounts in place, the whole environment handed over.
      static const char confirmed[] = "ready\n";
      ssize_t ignored = write(ANSWER_FD, confirmed, sizeof confirmed - 1);
      (void)ignored;
      close(ANSWER_FD);
      close(ENV_FD);
    }
    struct pollfd watched[3];
    nfds_t count = 0;
    watched[count++] = (struct pollfd){.fd = children, .events = POLLIN};
    int renew_at = -1, env_at = -1;
    if (lease.watching) renew_at = (int)count, watched[count++] = (struct pollfd){.fd = RENEW_FD, .events = POLLIN};
    if (!env.complete) env_at = (int)count, watched[count++] = (struct pollfd){.fd = ENV_FD, .events = POLLIN};
    int timeout = -1;
    if (lease.watching && lease.deadline >= 0) {
      long long left = lease.deadline - now_ms();
      timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
    }
    int ready = poll(watched, count, timeout);
    if (ready < 0 && errno != EINTR) fail("cannot wait for the step: %s", strerror(errno));
    if (lease.watching && lease.deadline >= 0 && now_ms() >= lease.deadline) {
      expire(&lease);
      if (step == 0) _exit(128 + SIGKILL);
      continue;
    }
    if (ready <= 0) continue;
    if (renew_at >= 0 && watched[renew_at].revents != 0 && read_renewals(&lease) != 0) {
      expire(&lease);
      if (step == 0) _exit(128 + SIGKILL);
      continue;
    }
    if (env_at >= 0 && watched[env_at].revents != 0 && read_environment(&env) != 0)
      fail("the step's environment did not arrive whole");
    if (watched[0].revents != 0) {
      struct signalfd_siginfo info;
      while (read(children, &info, sizeof info) > 0) {
      }
      int status;
      pid_t reaped;
      while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
        if (reaped != step) continue;
        // pid 1 leaving ends the namespace: the kernel kills whatever the step left behind.
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
  }
}

/**
 * A held init's arguments from fd 0, as an argv (argv[0] kept); whatever came behind them is the start of the
 * environment, left in early_environment.
 */
static char **held_arguments(char *self, int *count) {
  struct environment arguments = {0};
  while (!arguments.complete)
    if (read_environment(&arguments) != 0) fail("the step's arguments did not arrive whole");
  int n = 0;
  for (size_t i = 0; i < arguments.length; i++)
    if (arguments.bytes[i] == '\0') n++;
  char **list = calloc((size_t)n + 2, sizeof *list);
  if (list == NULL) fail("out of memory reading the step's arguments");
  list[0] = self;
  int at_entry = 1;
  for (size_t at = 0; at < arguments.length; at += strlen(arguments.bytes + at) + 1) list[at_entry++] = arguments.bytes + at;
  *count = at_entry;
  if (arguments.rest_length > 0) {
    size_t capacity = arguments.rest_length + 262144;
    early_environment.bytes = malloc(capacity);
    if (early_environment.bytes == NULL) fail("out of memory reading the step's environment");
    memcpy(early_environment.bytes, arguments.rest, arguments.rest_length);
    early_environment.length = arguments.rest_length;
    early_environment.capacity = capacity;
  }
  return list;
}

/** The host's end of Node's IPC channel: lines read so far and not yet taken. */
struct channel {
  int fd;
  /** The signalfd that says an init ended (SIGCHLD). */
  int exits;
  char buffer[4096];
  size_t used;
};

/** Holds asked for and not yet started, oldest first. */
enum { MAX_QUEUED_HOLDS = 256, STDIO_COUNT = 5 };
static long queued_holds[MAX_QUEUED_HOLDS];
static int queued_count;

/** Takes the next whole line already read into `line` (without its newline); 0 when none is complete. */
static int channel_take(struct channel *c, char *line, size_t size) {
  char *end = memchr(c->buffer, '\n', c->used);
  if (end == NULL) return 0;
  size_t length = (size_t)(end - c->buffer);
  size_t kept = length < size - 1 ? length : size - 1;
  memcpy(line, c->buffer, kept);
  line[kept] = '\0';
  c->used -= length + 1;
  memmove(c->buffer, end + 1, c->used);
  return 1;
}

/** One read from the channel; 0 at its end (the runner left) or on an error. */
static int channel_fill(struct channel *c) {
  // A line longer than the buffer is not one of the runner's: dropped.
  if (c->used == sizeof c->buffer) c->used = 0;
  ssize_t n;
  while ((n = read(c->fd, c->buffer + c->used, sizeof c->buffer - c->used)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return 0;
  c->used += (size_t)n;
  return 1;
}

/** A `{"hold":N}` line queues N; anything else is not a request. */
static void take_request(const char *line) {
  const char *at = strstr(line, "\"hold\":");
  if (at == NULL || queued_count == MAX_QUEUED_HOLDS) return;
  queued_holds[queued_count++] = strtol(at + 7, NULL, 10);
}

/** Writes all of `text`; the first part carries `passed` (SCM_RIGHTS) when it is a descriptor. */
static int channel_send(int fd, const char *text, size_t length, int passed) {
  struct iovec part = {.iov_base = (void *)text, .iov_len = length};
  union {
    char bytes[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr message = {.msg_iov = &part, .msg_iovlen = 1};
  if (passed >= 0) {
    memset(&control, 0, sizeof control);
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &passed, sizeof(int));
  }
  ssize_t n;
  while ((n = sendmsg(fd, &message, MSG_NOSIGNAL)) < 0)
    if (errno != EINTR) return -1;
  for (size_t done = (size_t)n; done < length; done += (size_t)n)
    while ((n = send(fd, text + done, length - done, MSG_NOSIGNAL)) < 0)
      if (errno != EINTR) return -1;
  return 0;
}

static int report_exits(int channel_fd);

/** The next whole line of the channel; inits that end meanwhile are reported at once. 0 when the channel is gone. */
static int channel_line_reporting(struct channel *c, char *line, size_t size) {
  while (!channel_take(c, line, size)) {
    struct pollfd watched[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->exits, .events = POLLIN}};
    if (poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (watched[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(c->exits, &info, sizeof info) == (ssize_t)sizeof info) {
      }
      if (report_exits(c->fd) != 0) return 0;
    }
    if ((watched[0].revents & (POLLIN | POLLHUP | POLLERR)) && !channel_fill(c)) return 0;
  }
  return 1;
}

/** Sends descriptor `index` of hold N as Node passes a socket (`NODE_HANDLE`). */
static int send_handle(struct channel *c, long hold, pid_t pid, int index, int end) {
  char text[160];
  int n = snprintf(text, sizeof text,
                   "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"held\":%ld,\"pid\":%d,\"fd\":%d}}\n", hold,
                   (int)pid, index);
  return channel_send(c->fd, text, (size_t)n, end);
}

/**
 * Passes the init's five ends to the runner, all sent before the first acknowledgement is awaited: one round
 * trip per held init instead of five, during which an init that ends (a task's step finishing) is reported at
 * once rather than after the whole hand-over. Node answers each `NODE_HANDLE` in the order they arrived, with
 * `NODE_HANDLE_ACK`, or `NODE_HANDLE_NACK` when the descriptor did not come with it (then it is sent again, at
 * most three times in all). Each message travels in a sendmsg of its own, and a read of a unix stream socket
 * ends with the part that carried descriptors, so no read holds two (Node relies on this for its own sends).
 */
static int pass_descriptors(struct channel *c, long hold, pid_t pid, const int ends[STDIO_COUNT]) {
  int in_flight[3 * STDIO_COUNT]; // the index of each message not yet answered, oldest first
  int attempts[STDIO_COUNT];
  int head = 0, tail = 0, acknowledged = 0;
  for (int i = 0; i < STDIO_COUNT; i++) {
    if (send_handle(c, hold, pid, i, ends[i]) != 0) return -1;
    attempts[i] = 1;
    in_flight[tail++] = i;
  }
  char line[sizeof c->buffer];
  while (acknowledged < STDIO_COUNT) {
    if (!channel_line_reporting(c, line, sizeof line)) return -1;
    if (strstr(line, "\"NODE_HANDLE_ACK\"") != NULL) {
      if (head == tail) return -1; // an answer to nothing: not Node's channel
      head++;
      acknowledged++;
    } else if (strstr(line, "\"NODE_HANDLE_NACK\"") != NULL) {
      if (head == tail) return -1;
      int i = in_flight[head++];
      if (attempts[i]++ == 3 || send_handle(c, hold, pid, i, ends[i]) != 0) return -1;
      in_flight[tail++] = i;
    } else
      take_request(line);
  }
  return 0;
}

/** Tells the runner hold N got no init (its step's init is then spawned by the runner itself). */
static int refuse_hold(int channel_fd, long hold, int error) {
  char text[96];
  int n = snprintf(text, sizeof text, "{\"unheld\":%ld,\"errno\":%d}\n", hold, error);
  return channel_send(channel_fd, text, (size_t)n, -1);
}

/** Closes every descriptor from `first` up. */
static void close_from(int first) {
  if (close_range((unsigned)first, ~0u, 0) == 0) return;
  long most = sysconf(_SC_OPEN_MAX);
  if (most < 0 || most > 1 << 20) most = 1 << 20;
  for (int fd = first; fd < most; fd++) close(fd);
}

static int run_init(int argc, char **argv);

/**
 * In the host's child: becomes the held init an exec of `self --held` would have been. The host's memory holds
 * nothing of any task (arguments and environment reach the held init only on its fd 0), its descriptors are
 * closed already, and what else an exec resets is reset here: the parent-death signal, the environment (PATH
 * only), and the command line `ps` shows.
 */
static void become_held(char *self, char *host_flag, pid_t host) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != host) _exit(SETUP_FAILED); // the host died before the line above: nobody would hear of this init
  const char *path = getenv("PATH");
  char *kept = path == NULL ? NULL : strdup(path);
  clearenv();
  if (kept != NULL) setenv("PATH", kept, 1);
  memcpy(host_flag, "--held", 6); // over "--host", the same length: /proc/PID/cmdline says what it is now
  int argc;
  char **argv = held_arguments(self, &argc);
  _exit(run_init(argc, argv));
}

/** Starts one held init and passes its five descriptors; -1 when the channel is gone. */
static int start_held(struct channel *c, char *self, char *host_flag, long hold, const sigset_t *original_mask) {
  int pairs[STDIO_COUNT][2];
  for (int i = 0; i < STDIO_COUNT; i++)
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[i]) != 0) {
      int error = errno;
      for (int j = 0; j < i; j++) close(pairs[j][0]), close(pairs[j][1]);
      return refuse_hold(c->fd, hold, error);
    }
  pid_t host = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    for (int i = 0; i < STDIO_COUNT; i++) close(pairs[i][0]), close(pairs[i][1]);
    return refuse_hold(c->fd, hold, error);
  }
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, original_mask, NULL);
    setsid();
    if (chdir("/") != 0) _exit(SETUP_FAILED);
    int ends[STDIO_COUNT];
    for (int i = 0; i < STDIO_COUNT; i++) ends[i] = fcntl(pairs[i][1], F_DUPFD_CLOEXEC, 16);
    for (int i = 0; i < STDIO_COUNT; i++)
      if (ends[i] < 0 || dup2(ends[i], i) != i) _exit(SETUP_FAILED);
    // Nothing else of the host's, nor anything the host inherited, reaches the init: only its five.
    close_from(STDIO_COUNT);
    become_held(self, host_flag, host);
  }
  int ends[STDIO_COUNT];
  for (int i = 0; i < STDIO_COUNT; i++) close(pairs[i][1]), ends[i] = pairs[i][0];
  int result = pass_descriptors(c, hold, pid, ends);
  for (int i = 0; i < STDIO_COUNT; i++) close(ends[i]);
  return result;
}

/** Reports every init that ended; its status as Node's exit event has it (code, or the signal's number). */
static int report_exits(int channel_fd) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    char text[96];
    int n = WIFEXITED(status)
                ? snprintf(text, sizeof text, "{\"exit\":%d,\"code\":%d,\"signal\":null}\n", (int)pid, WEXITSTATUS(status))
                : snprintf(text, sizeof text, "{\"exit\":%d,\"code\":null,\"signal\":%d}\n", (int)pid, WTERMSIG(status));
    if (channel_send(channel_fd, text, (size_t)n, -1) != 0) return -1;
  }
  return 0;
}

static int host_main(char *self, char *host_flag) {
  const char *named = getenv("NODE_CHANNEL_FD");
  struct channel c = {.fd = named == NULL ? 3 : atoi(named), .exits = -1, .used = 0};
  int flags = fcntl(c.fd, F_GETFL);
  if (flags < 0) return SETUP_FAILED;
  fcntl(c.fd, F_SETFL, flags & ~O_NONBLOCK);
  sigset_t children, original;
  sigemptyset(&children);
  sigaddset(&children, SIGCHLD);
  sigprocmask(SIG_BLOCK, &children, &original);
  int exits = signalfd(-1, &children, SFD_CLOEXEC | SFD_NONBLOCK);
  if (exits < 0) return SETUP_FAILED;
  c.exits = exits;
  for (;;) {
    while (queued_count > 0) {
      long hold = queued_holds[0];
      memmove(queued_holds, queued_holds + 1, (size_t)--queued_count * sizeof *queued_holds);
      if (start_held(&c, self, host_flag, hold, &original) != 0) return 0;
    }
    struct pollfd watched[2] = {{.fd = c.fd, .events = POLLIN}, {.fd = exits, .events = POLLIN}};
    if (poll(watched, 2, -1) < 0 && errno != EINTR) return SETUP_FAILED;
    if (watched[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(exits, &info, sizeof info) == (ssize_t)sizeof info) {
      }
      if (report_exits(c.fd) != 0) return 0;
    }
    if (watched[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      // One read's worth of lines; the runner gone (end of channel) ends the host, and its inits with it.
      if (!channel_fill(&c)) return 0;
      char line[sizeof c.buffer];
      while (channel_take(&c, line, sizeof line)) take_request(line);
    }
  }
}

int main(int argc, char **argv) {
  // Dies with the runner, as setpriv --pdeathsig KILL did; a held init too, while it waits.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc == 2 && strcmp(argv[1], "--host") == 0) return host_main(argv[0], argv[1]);
  if (argc == 2 && strcmp(argv[1], "--held") == 0) argv = held_arguments(argv[0], &argc);
  return run_init(argc, argv);
}

/** The init proper, from its arguments on: a spawned one's command line, or a held one's fd 0. */
static int run_init(int argc, char **argv) {
  if (argc < 7) fail("usage: baton-init DEADMAN FSTAB WORKSPACE INTERNAL CWD COMMAND [ARG...]");
  if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) fail("cannot make the step's pid and mount namespaces: %s", strerror(errno));
  // The cancel's SIGTERM is for the step; this process outlives it to report the step's status.
  sigset_t polite, original;
  sigemptyset(&polite);
  sigaddset(&polite, SIGTERM);
  sigaddset(&polite, SIGINT);
  sigprocmask(SIG_BLOCK, &polite, &original);
  pid_t init = fork();
  if (init < 0) fail("cannot start the step's init: %s", strerror(errno));
  if (init == 0) {
    sigprocmask(SIG_SETMASK, &original, NULL);
    return init_main(argv, &original);
  }
  signal(SIGTERM, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  sigprocmask(SIG_SETMASK, &original, NULL);
  close(ENV_FD);
  close(RENEW_FD);
  close(ANSWER_FD);
  close(1);
  int status;
  while (waitpid(init, &status, 0) < 0)
    if (errno != EINTR) return SETUP_FAILED;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  // Killed: end the same way, so the runner sees what the step's init saw.
  int signal_number = WTERMSIG(status);
  signal(signal_number, SIG_DFL);
  kill(getpid(), signal_number);
  return 128 + signal_number;
}
