// Where the engine looks for the system tools it runs itself (containment, shells' fallbacks), whatever PATH a
// step is given: a task's PATH must never choose the programs that contain it.
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
