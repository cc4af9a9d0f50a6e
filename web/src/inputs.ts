// Run inputs typed as text: one `key=value` per line.

/** `key=value` per line; blank lines and `#` comments are ignored. */
export function parseInputs(text: string): { inputs: Record<string, string>; errors: string[] } {
  const inputs: Record<string, string> = {};
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) errors.push(`inputs line ${i + 1}: expected key=value, got '${line}'`);
    else inputs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return { inputs, errors };
}
