// `env:` maps (every dialect): names checked, values as strings, size limits per value.

import { addTemplate, type TemplateRef, type TemplateWhere } from './drafts.ts';
import { formatBytes, type WorkflowLimits } from './limits.ts';
import type { Located, NodeReader } from './node-reader.ts';
import { ENV_NAME } from './static-values.ts';

export type { TemplateRef } from './drafts.ts';

/** Reads an env map; numbers and booleans become text, empty becomes ''. Built with fromEntries so '__proto__' is a plain key. */
export function readEnv(
  reader: NodeReader,
  limits: WorkflowLimits,
  loc: Located,
  owner: string,
  templates: TemplateRef[],
  where: TemplateWhere,
  earlierSteps?: readonly string[],
): Record<string, string> {
  const fields = reader.map(loc, `'env' of ${owner}`);
  const entries: Array<[string, string]> = [];
  for (const field of fields ?? []) {
    if (!ENV_NAME.test(field.key)) {
      const message = `env name '${field.key}' in ${owner} is not valid; use letters, digits and _, not starting with a digit`;
      reader.report('invalid_name', message, field.keyAt, field.path);
      continue;
    }
    const value = reader.string(field, `env '${field.key}' of ${owner}`, { convert: true });
    if (value === undefined) continue;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > limits.maxEnvValueBytes) {
      const message = `env '${field.key}' of ${owner} is ${bytes} bytes; the limit is ${formatBytes(limits.maxEnvValueBytes)} per value`;
      reader.report('limit_exceeded', message, field.at, field.path);
      continue;
    }
    addTemplate(templates, value, field, `env '${field.key}' of ${owner}`, where, earlierSteps);
    entries.push([field.key, value]);
  }
  return Object.fromEntries(entries);
}

/** Bytes of an env map as a process sees it: NAME=value plus a terminating NUL per entry. */
export function envBytes(env: Record<string, string>): number {
  let total = 0;
  for (const [name, value] of Object.entries(env))
    total += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8') + 2;
  return total;
}
