/**
 * The data directory (`dataDir`): checked or created before the database is opened. A path
 * that cannot be a folder is a DataDirError that names the obstacle (a file where a folder
 * must be, a folder it may not write), never the raw ENOTDIR of mkdir.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataDirError, StoreError } from './errors.ts';

/** Makes sure `dir` is a folder; creates it with its parents (mode 0700) unless `mustExist`. */
export function ensureDataDir(dir: string, mustExist: boolean): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new DataDirError(dir, 'it is a file, not a folder');
    return;
  }
  if (mustExist) throw new StoreError('store.open', `data directory ${dir} does not exist`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError(dir, whyNotCreated(dir, err as NodeJS.ErrnoException), { cause: err });
  }
}

/** Why mkdir failed, naming the nearest existing path above `dir`. */
function whyNotCreated(dir: string, err: NodeJS.ErrnoException): string {
  let above = dirname(dir);
  while (!existsSync(above) && dirname(above) !== above) above = dirname(above);
  switch (err.code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return `cannot create it: ${above} is a file, not a folder`;
    case 'EACCES':
    case 'EPERM':
      return `cannot create it: permission denied in ${above}`;
    case 'EROFS':
      return `cannot create it: ${above} is on a read-only file system`;
    default:
      return `cannot create it: ${err.message}`;
  }
}
