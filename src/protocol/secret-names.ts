// Which secrets a task names: the server seals only those to the runner, and offers a task that names any
// only to a runner with a public key to seal them to.

/** Names the expressions in `texts` read from the `secrets` context (`secrets.NAME` or `secrets['NAME']`). */
export function secretNames(...texts: string[]): string[] {
  const names = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']+)'\s*\])/g))
      names.add((m[1] ?? m[2])!);
  }
  return [...names];
}
