// Saving a run's artifacts to a directory, as `runs artifacts --download` and `baton run` do.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatonClient } from '../client/index.ts';

/** Downloads every artifact of the run as DIR/<task>-<name>.zip; the paths written, in order. */
export async function downloadArtifacts(client: BatonClient, runId: string, dir: string): Promise<string[]> {
  const { artifacts } = await client.listArtifacts(runId);
  const saved: string[] = [];
  if (artifacts.length === 0) return saved;
  await mkdir(dir, { recursive: true });
  for (const a of artifacts) {
    const dest = join(dir, `${a.task}-${a.name}.zip`.replace(/[^A-Za-z0-9._-]/g, '_'));
    await client.downloadArtifact(runId, a.id, dest);
    saved.push(dest);
  }
  return saved;
}
