/**
 * Users (admin-owned CRR rows): extension, display name, digest HA1 hashes and the user's codec
 * preference order.
 */
import type { Database, Statement } from 'better-sqlite3';
import { normaliseCodecName, type CodecName } from '../config/codec-names.ts';

export interface UserRecord {
  ext: string;
  displayName: string;
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
  site: string;
  /** Codec preference order, most preferred first; [] = the box default (`rtp.codecs`). */
  codecs: CodecName[];
  createdAt: number;
  updatedAt: number;
}

/**
 * What upsert() writes. Without `codecs`, a new user gets [] (the box default) and an existing
 * one keeps its list.
 */
export type UserInput = Omit<UserRecord, 'codecs' | 'createdAt' | 'updatedAt'> & { codecs?: readonly CodecName[] };

interface UserRow {
  ext: string;
  display_name: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  site: string;
  codecs: string;
  created_at: number;
  updated_at: number;
}

/** The `codecs` column: names separated by commas ('' = the box default). */
export function encodeCodecs(codecs: readonly CodecName[]): string {
  return codecs.join(',');
}

/**
 * Reads the `codecs` column leniently: a name this build does not know (written by a newer
 * build and replicated here) or a repeated one is skipped, so a user can still log in and call.
 */
export function decodeCodecs(text: string): CodecName[] {
  const out: CodecName[] = [];
  for (const part of text.split(',')) {
    const name = normaliseCodecName(part);
    if (name !== undefined && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The codecs that apply to a user's calls: its own list, or the box default when it has none. */
export function effectiveCodecs(user: Pick<UserRecord, 'codecs'> | undefined, boxDefault: readonly CodecName[]): readonly CodecName[] {
  return user && user.codecs.length > 0 ? user.codecs : boxDefault;
}

const toRecord = (r: UserRow): UserRecord => ({
  ext: r.ext,
  displayName: r.display_name,
  realm: r.realm,
  ha1Md5: r.ha1_md5,
  ha1Sha256: r.ha1_sha256,
  site: r.site,
  codecs: decodeCodecs(r.codecs),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Largest number of users kept in the read cache before it is dropped and refilled. */
const CACHE_LIMIT = 20_000;

export class UserRepository {
  /**
   * Read cache for get() (every authentication reads a user). Writes through this repository
   * clear it; writes by other connections (the CLI) or by replication must call invalidate():
   * the node does so when SQLite's data_version changes (checked every second).
   */
  private readonly cache = new Map<string, UserRecord | null>();
  private readonly getStmt: Statement<[string], UserRow>;
  private readonly listStmt: Statement<[], UserRow>;
  private readonly upsertStmt: Statement;
  private readonly setCodecsStmt: Statement<[string, number, string]>;
  private readonly removeStmt: Statement<[string]>;
  private readonly countStmt: Statement<[], { n: number }>;

  constructor(db: Database) {
    this.getStmt = db.prepare('SELECT * FROM users WHERE ext = ?');
    this.listStmt = db.prepare('SELECT * FROM users ORDER BY ext');
    this.upsertStmt = db.prepare(`
      INSERT INTO users (ext, display_name, realm, ha1_md5, ha1_sha256, site, codecs, created_at, updated_at)
      VALUES (@ext, @displayName, @realm, @ha1Md5, @ha1Sha256, @site, coalesce(@codecs, ''), @now, @now)
      ON CONFLICT (ext) DO UPDATE SET display_name = excluded.display_name, realm = excluded.realm,
        ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, site = excluded.site,
        codecs = coalesce(@codecs, users.codecs), updated_at = excluded.updated_at`);
    this.setCodecsStmt = db.prepare('UPDATE users SET codecs = ?, updated_at = ? WHERE ext = ?');
    this.removeStmt = db.prepare('DELETE FROM users WHERE ext = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM users');
  }

  get(ext: string): UserRecord | undefined {
    const cached = this.cache.get(ext);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.getStmt.get(ext);
    const user = row ? toRecord(row) : null;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(ext, user);
    return user ?? undefined;
  }

  /** Forgets cached users (after another connection or replication changed the table). */
  invalidate(): void {
    this.cache.clear();
  }

  list(): UserRecord[] {
    return this.listStmt.all().map(toRecord);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** Inserts or replaces a user; `now` is the write time in ms. */
  upsert(user: UserInput, now: number): void {
    const { codecs, ...rest } = user;
    this.upsertStmt.run({ ...rest, codecs: codecs === undefined ? null : encodeCodecs(codecs), now });
    this.cache.delete(user.ext);
  }

  /**
   * Sets a user's codec preference order; [] clears it (back to the box default). Returns false
   * when there is no such user. A list equal to the stored one still moves updated_at.
   */
  setCodecs(ext: string, codecs: readonly CodecName[], now: number): boolean {
    this.cache.delete(ext);
    return this.setCodecsStmt.run(encodeCodecs(codecs), now, ext).changes > 0;
  }

  /** Removes a user; returns false when there was none. */
  remove(ext: string): boolean {
    this.cache.delete(ext);
    return this.removeStmt.run(ext).changes > 0;
  }
}
