/**
 * An admin's credential directory (`outpost admin login`, default ~/.config/outpost/admin):
 * `admin.key` (its P-256 key), `admin.crt` (its certificate from the hub's CA), `ca.crt` (the
 * CA its hub's broker must chain to) and `hub.json` (`{"name": …, "broker": "mqtts://…"}`),
 * every file mode 0600 in a 0700 directory. Nothing else of the hub is needed to use it.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { AdminCredential } from '../trust/admin-enrolment.ts';
import { AdminError } from './errors.ts';

export const defaultCredentialDir = (): string => join(process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'outpost', 'admin');

const FILES = { key: 'admin.key', cert: 'admin.crt', ca: 'ca.crt', hub: 'hub.json' } as const;
const HubFileSchema = z.object({ name: z.string(), broker: z.string() });

export function writeAdminCredential(dir: string, c: AdminCredential): void {
  if (existsSync(join(dir, FILES.cert))) throw new AdminError('admin.credential', `${dir} already holds an admin credential (${FILES.cert}); log in with another --dir`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const put = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
    chmodSync(`${path}.tmp`, 0o600);
    renameSync(`${path}.tmp`, path);
  };
  put(FILES.key, c.key);
  put(FILES.ca, c.ca);
  put(FILES.hub, JSON.stringify({ name: c.name, broker: c.broker }));
  put(FILES.cert, c.cert);
}

export function readAdminCredential(dir: string): AdminCredential {
  const read = (name: string) => {
    const path = join(dir, name);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (log in first: outpost admin login --hub URL --claim CODE)' : (err as Error).message;
      throw new AdminError('admin.credential', `no admin credential in ${dir}: ${path} ${why}`, { cause: err });
    }
  };
  const hub = HubFileSchema.safeParse(safeJson(read(FILES.hub)));
  if (!hub.success) throw new AdminError('admin.credential', `${join(dir, FILES.hub)} is not an admin credential's hub file`);
  return { key: read(FILES.key), cert: read(FILES.cert), ca: read(FILES.ca), name: hub.data.name, broker: hub.data.broker };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
