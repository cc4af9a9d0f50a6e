// The `baton runner register …` command the Runners page shows for a new runner, safe to paste in a shell.

/** Quotes a shell word only when it needs it (names and labels are restricted, but a user may type anything). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_.@:/,=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function registerCommand(origin: string, token: string, name: string, labels: string): string {
  const parts = [
    'baton runner register',
    '--server',
    shellWord(origin),
    '--registration-token',
    shellWord(token),
  ];
  if (name) parts.push('--name', shellWord(name));
  const l = labels
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .join(',');
  if (l) parts.push('--labels', shellWord(l));
  return parts.join(' ');
}
