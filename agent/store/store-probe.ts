/**
 * Does the store's database open? A read-only look for the update health check
 * (agent/update/health-main.ts), which Node runs without tsx on the box: plain TypeScript only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** True when `<dataDir>/outpost.db` opens read-only and answers a query. */
export function storeOpens(dataDir: string): boolean {
  const path = join(dataDir, 'outpost.db');
  if (!existsSync(path)) return false;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 2000 });
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      return true;
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}
