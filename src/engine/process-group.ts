// Reading a process group's members from /proc, to say in the log what is being killed.

import { readdirSync, readFileSync } from 'node:fs';

interface Member {
  pid: number;
  command: string;
}

const SHOWN = 5;

/** "2 processes: sleep (pid 41), bash (pid 40)", or "no processes". Linux only; elsewhere "unknown processes". */
export function describeGroup(pgid: number): string {
  const members = groupMembers(pgid);
  if (members === undefined) return 'unknown processes';
  if (members.length === 0) return 'no processes';
  const shown = members.slice(0, SHOWN).map((m) => `${m.command} (pid ${m.pid})`);
  const more = members.length > SHOWN ? `, and ${members.length - SHOWN} more` : '';
  return `${members.length} process${members.length === 1 ? '' : 'es'}: ${shown.join(', ')}${more}`;
}

/** Live (non-zombie) processes whose process group is `pgid`; undefined without /proc. */
export function groupMembers(pgid: number): Member[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined; // no procfs (macOS): the caller says "unknown"
  }
  const members: Member[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat === undefined) continue;
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push({ pid: Number(entry), command });
  }
  return members;
}

function readStat(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process exited while we listed /proc
  }
}
