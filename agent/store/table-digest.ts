/**
 * A content digest per replicated table, computed the same way on every replica: rows in
 * primary-key order, columns in schema order, each value hashed with its SQLite type. Two
 * replicas hold identical rows in a table exactly when its digests match (up to SHA-256
 * collisions). Only user-visible content counts, not cr-sqlite's clocks.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { REPLICATED_TABLES } from './replicated-tables.ts';

export interface TableDigest {
  table: string;
  rows: number;
  /** First 16 bytes of the SHA-256, hex. */
  digest: string;
}

export function tableDigests(db: Database): TableDigest[] {
  return REPLICATED_TABLES.map((t) => {
    const order = t.primaryKey.map((c) => `"${c}"`).join(', ');
    const stmt = db.prepare(`SELECT * FROM "${t.name}" ORDER BY ${order}`).raw(true).safeIntegers(true);
    const hash = createHash('sha256');
    let rows = 0;
    const len = Buffer.alloc(4);
    for (const row of stmt.iterate() as Iterable<unknown[]>) {
      rows++;
      for (const v of row) {
        if (v === null) hash.update('n');
        else if (typeof v === 'bigint') hash.update(`i${v};`);
        else if (typeof v === 'number') hash.update(`r${v};`);
        else if (typeof v === 'string') {
          const b = Buffer.from(v, 'utf8');
          len.writeUInt32BE(b.length);
          hash.update('t').update(len).update(b);
        } else {
          const b = v as Uint8Array;
          len.writeUInt32BE(b.length);
          hash.update('b').update(len).update(b);
        }
      }
      hash.update('|');
    }
    return { table: t.name, rows, digest: hash.digest('hex').slice(0, 32) };
  });
}
