/**
 * Where the hub keeps claims: one file per claim in `<hub dataDir>/ca/claims/` (mode 0600 in a
 * 0700 folder), `<ID>.json` with the claim (its derived key, never the code), and beside it
 * `<ID>.used` or `<ID>.revoked` once that happened. A mark is created exclusively (`wx`), so the
 * CLI (`enrol create|revoke`) and the running hub share the folder without a lock, and two
 * requests racing for one code cannot both use it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClaimMarks, ClaimRecord } from './claim-rules.ts';
import { CA_DIR } from './ca.ts';
import { claimKey, newClaimCode, type ClaimCode } from './claim-code.ts';
import { TrustError } from './errors.ts';

export class ClaimBook {
  private readonly dir: string;

  constructor(hubDataDir: string) {
    this.dir = join(hubDataDir, CA_DIR, 'claims');
  }

  add(claim: ClaimRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.file(claim.id, 'json'), `${JSON.stringify(claim)}\n`, { mode: 0o600, flag: 'wx' });
  }

  has(id: string): boolean {
    return existsSync(this.file(id, 'json'));
  }

  get(id: string): ClaimRecord | undefined {
    const text = this.read(this.file(id, 'json'));
    return text === undefined ? undefined : (JSON.parse(text) as ClaimRecord);
  }

  marks(id: string): ClaimMarks {
    const used = this.read(this.file(id, 'used'));
    const revoked = this.read(this.file(id, 'revoked'));
    return { ...(used !== undefined ? { used: JSON.parse(used) as ClaimMarks['used'] } : {}), ...(revoked !== undefined ? { revoked: JSON.parse(revoked) as ClaimMarks['revoked'] } : {}) };
  }

  /** Every claim, oldest first. */
  list(): Array<{ claim: ClaimRecord; marks: ClaimMarks }> {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .map((id) => ({ claim: this.get(id)!, marks: this.marks(id) }))
      .sort((a, b) => a.claim.createdAt - b.claim.createdAt);
  }

  /** Marks a claim used; false when it already was (another request won the race). */
  markUsed(id: string, used: NonNullable<ClaimMarks['used']>): boolean {
    return this.mark(id, 'used', used);
  }

  /** Marks a claim revoked; false when it already was. */
  markRevoked(id: string, at: number): boolean {
    return this.mark(id, 'revoked', { at });
  }

  private mark(id: string, kind: 'used' | 'revoked', value: object): boolean {
    try {
      writeFileSync(this.file(id, kind), `${JSON.stringify(value)}\n`, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new TrustError('trust.files', `cannot mark claim ${id} ${kind}: ${(err as Error).message}`, { cause: err });
    }
  }

  private file(id: string, ext: string): string {
    return join(this.dir, `${id}.${ext}`);
  }

  private read(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new TrustError('trust.files', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

export interface NewClaim {
  site: string;
  nodeId: string | undefined;
  ttlMs: number;
  now: number;
  /** 'admin': a claim for the admin named `nodeId` (outpost enrol create --admin NAME). */
  role?: 'admin';
}

/**
 * Makes a claim and returns its code, the only time the code exists at the hub: the book keeps
 * its derived key. Draws again when the id (first group) is taken.
 */
export function createClaim(book: ClaimBook, c: NewClaim): { code: ClaimCode; claim: ClaimRecord } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const code = newClaimCode();
    if (book.has(code.id)) continue;
    const claim: ClaimRecord = { id: code.id, site: c.site, nodeId: c.nodeId, key: claimKey(code).toString('hex'), createdAt: c.now, expiresAt: c.now + c.ttlMs, ...(c.role ? { role: c.role } : {}) };
    book.add(claim);
    return { code, claim };
  }
  throw new TrustError('trust.files', 'cannot draw a free claim id: too many claims in the book');
}
