/**
 * The dashboard's admins: `<dataDir>/dashboard-users`, one line per user,
 * `name:scrypt:N:r:p:salt:hash` (salt and hash base64), mode 0600, written by
 * `outpost dashboard passwd USER` (docs/cli/dashboard.md). The file is read at each login, so a
 * changed password works without a restart. Passwords are checked with scrypt and a
 * constant-time compare; an unknown user costs the same scrypt as a known one.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DashboardError } from './errors.ts';

export const USERS_FILE = 'dashboard-users';
export const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

interface Entry {
  name: string;
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export function usersFile(dataDir: string): string {
  return join(dataDir, USERS_FILE);
}

function parse(file: string): Entry[] {
  if (!existsSync(file)) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DashboardError('dashboard.passwd', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '' && !line.startsWith('#'))
    .map(([line, n]) => {
      const [name, kind, N, r, p, salt, hash] = line.split(':');
      if (!name || kind !== 'scrypt' || !USER_NAME.test(name) || !salt || !hash) throw new DashboardError('dashboard.passwd', `${file}:${n}: not "name:scrypt:N:r:p:salt:hash"`);
      return { name, N: Number(N), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    });
}

/** The user names of the file, in file order. */
export function listUsers(dataDir: string): string[] {
  return parse(usersFile(dataDir)).map((e) => e.name);
}

/** Sets (adds or replaces) `name`'s password. Returns whether the user existed. */
export function setPassword(dataDir: string, name: string, password: string): boolean {
  if (!USER_NAME.test(name)) throw new DashboardError('dashboard.passwd', `user name "${name}" refused: 1-64 letters, digits, dot, dash, underscore`);
  if (password.length < 8) throw new DashboardError('dashboard.passwd', 'password refused: at least 8 characters');
  const file = usersFile(dataDir);
  const entries = parse(file);
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, KEY_LEN, { ...PARAMS, maxmem: 64 * 1024 * 1024 });
  const entry: Entry = { name, ...PARAMS, salt, hash };
  const existed = entries.some((e) => e.name === name);
  const next = existed ? entries.map((e) => (e.name === name ? entry : e)) : [...entries, entry];
  const text = next.map((e) => `${e.name}:scrypt:${e.N}:${e.r}:${e.p}:${e.salt.toString('base64')}:${e.hash.toString('base64')}`).join('\n');
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${text}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return existed;
}

/** Removes `name`; returns whether it was there. */
export function removeUser(dataDir: string, name: string): boolean {
  const file = usersFile(dataDir);
  const entries = parse(file);
  const next = entries.filter((e) => e.name !== name);
  if (next.length === entries.length) return false;
  const text = next.map((e) => `${e.name}:scrypt:${e.N}:${e.r}:${e.p}:${e.salt.toString('base64')}:${e.hash.toString('base64')}`).join('\n');
  writeFileSync(file, text ? `${text}\n` : '', { mode: 0o600 });
  return true;
}

const DUMMY: Entry = { name: '', ...PARAMS, salt: Buffer.alloc(16), hash: Buffer.alloc(KEY_LEN) };

/** Whether `password` is `name`'s (false for an unknown user, after the same work). */
export async function verifyPassword(dataDir: string, name: string, password: string): Promise<boolean> {
  const entry = parse(usersFile(dataDir)).find((e) => e.name === name);
  const e = entry ?? DUMMY;
  const derived = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, e.salt, e.hash.length || KEY_LEN, { N: e.N, r: e.r, p: e.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
  return entry !== undefined && derived.length === e.hash.length && timingSafeEqual(derived, e.hash);
}
