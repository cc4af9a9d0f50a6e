import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp.ts';
import { createGroupCommit } from './group-commit.ts';
import { openSqlite } from './sqlite/open.ts';

describe('group commit', () => {
  it('writes queued behind a running transaction share the next one; each settles after its commit', async () => {
    const log: string[] = [];
    const group = createGroupCommit<string[]>(async (body) => {
      log.push('begin');
      const staged: string[] = [];
      const result = await body(staged);
      log.push(`commit ${staged.join(',')}`);
      return result;
    });
    const write = (name: string) =>
      group.run(async (staged) => {
        staged.push(name);
        await Promise.resolve();
        return name;
      });
    const settled: string[] = [];
    const all = ['a', 'b', 'c', 'd'].map((n) =>
      write(n).then((v) => void settled.push(`${v} after ${log.at(-1)}`)),
    );
    await Promise.all(all);
    // 'a' found the database idle and went alone; b, c and d queued meanwhile and went together.
    expect(log).toEqual(['begin', 'commit a', 'begin', 'commit b,c,d']);
    expect(settled).toEqual([
      'a after commit a',
      'b after commit b,c,d',
      'c after commit b,c,d',
      'd after commit b,c,d',
    ]);
    expect(group.stats).toEqual({ writes: 4, transactions: 2 });
  });

  it('a write that throws fails alone: the group is rolled back and the others run again on their own', async () => {
    const committed: string[] = [];
    const group = createGroupCommit<string[]>(async (body) => {
      const staged: string[] = [];
      const result = await body(staged); // a throw here is a rollback: nothing staged is kept
      committed.push(...staged);
      return result;
    });
    const first = group.run(async (s) => void s.push('first'));
    const writes = [
      group.run(async (s) => void s.push('ok-1')),
      group.run(async () => {
        throw new Error('lease_superseded');
      }),
      group.run(async (s) => void s.push('ok-2')),
    ];
    await first;
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('lease_superseded'));
    expect(committed).toEqual(['first', 'ok-1', 'ok-2']);
  });

  it('on SQLite: concurrent writes are grouped, and what a caller was told is committed is on disk', async () => {
    const file = join(tempDir(), 'group.db');
    const d = openSqlite(file);
    try {
      await sql`create table t (id integer primary key, v text not null)`.execute(d.db);
      const other = new BetterSqlite3(file, { readonly: true });
      const seenAtResolve: boolean[] = [];
      const write = (i: number, fail = false) =>
        d
          .writeTx(async (tx) => {
            await sql`insert into t (id, v) values (${i}, ${`row ${i}`})`.execute(tx);
            if (fail) throw new Error('refused');
            return i;
          })
          .then((v) => {
            // Another connection sees the row the moment the caller learns it was written.
            seenAtResolve.push(other.prepare('select 1 from t where id = ?').get(v) !== undefined);
            return v;
          });
      await Promise.all(Array.from({ length: 30 }, (_, i) => write(i)));
      const stats = d.groupCommit!;
      expect(stats.writes).toBe(30);
      // Fewer transactions than writes: they were grouped.
      expect(stats.transactions).toBeLessThan(stats.writes);
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, k) => write(30 + k, k === 7)));
      expect(outcomes.filter((o) => o.status === 'rejected').length).toBe(1);
      expect(seenAtResolve).toHaveLength(49);
      expect(seenAtResolve.every(Boolean)).toBe(true);
      const ids = (other.prepare('select id from t order by id').all() as Array<{ id: number }>).map(
        (r) => r.id,
      );
      expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 37));
      other.close();
    } finally {
      await d.close();
    }
  });
});
