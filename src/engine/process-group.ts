// Reading processes from /proc: a process group's members, to say in the log what is being killed, and one
// process's state (a held init that died but was not reaped yet).

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
    const [state, , pgrp] = stat.fields;
    if (Number(pgrp) === pgid && state !== 'Z') members.push({ pid: Number(entry), command: stat.command });
  }
  return members;
}

/** Running or sleeping: not gone and not a zombie (exited, not reaped yet). */
export function isLive(pid: number): boolean {
  const state = readStat(String(pid))?.fields[0];
  return state !== undefined && state !== 'Z';
}

/** /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses. */
function readStat(pid: string): { command: string; fields: string[] } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process exited while we listed /proc
  }
  const close = stat.lastIndexOf(')');
  return { command: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}
