// `baton server --config baton.yaml`: the config file's settings (keys of SETTINGS in config.ts), checked with
// the line and column of every problem: an unknown key, a value of the wrong type, a duplicate key.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { SETTINGS, type ServerConfig } from './config.ts';

/** A config file larger than this is refused (it holds a few dozen short settings). */
export const CONFIG_FILE_MAX_BYTES = 64 * 1024;

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export function loadServerConfigFile(path: string): Partial<ServerConfig> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new ConfigFileError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (size > CONFIG_FILE_MAX_BYTES)
    throw new ConfigFileError(
      `config file ${path} is ${size} bytes; the limit is ${CONFIG_FILE_MAX_BYTES} bytes`,
    );
  return parseServerConfigFile(readFileSync(path, 'utf8'), path);
}

export function parseServerConfigFile(text: string, path: string): Partial<ServerConfig> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const p = lines.linePos(offset ?? 0);
    return `${path}:${p.line}:${p.col}`;
  };
  const first = doc.errors[0];
  if (first) throw new ConfigFileError(`${at(first.pos[0])}: ${first.message.split('\n')[0]}`);
  const out: Partial<ServerConfig> = {};
  if (doc.contents === null) return out;
  if (!isMap(doc.contents))
    throw new ConfigFileError(
      `${at(doc.contents.range?.[0])}: the config file must be a mapping of settings`,
    );
  for (const pair of doc.contents.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
    const where = at(keyNode?.range?.[0]);
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting)
      throw new ConfigFileError(
        `${where}: unknown key '${key ?? '?'}' (known keys: ${SETTINGS.map((s) => s.key).join(', ')})`,
      );
    const valueNode = pair.value as Node | null;
    const valueAt = at(valueNode?.range?.[0] ?? keyNode?.range?.[0]);
    const record = out as Record<string, unknown>;
    if (setting.kind === 'list') {
      if (!isSeq(valueNode) || !valueNode.items.every((i) => isScalar(i) && typeof i.value === 'string'))
        throw new ConfigFileError(`${valueAt}: '${setting.key}' must be a list of strings`);
      record[setting.field] = valueNode.items.map((i) => String((i as { value: unknown }).value));
      continue;
    }
    const value = isScalar(valueNode) ? valueNode.value : undefined;
    if (setting.kind === 'int') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        throw new ConfigFileError(`${valueAt}: '${setting.key}' must be a non-negative integer`);
      record[setting.field] = value;
    } else {
      if (typeof value !== 'string' || value === '')
        throw new ConfigFileError(`${valueAt}: '${setting.key}' must be a non-empty string`);
      record[setting.field] = value;
    }
  }
  return out;
}
