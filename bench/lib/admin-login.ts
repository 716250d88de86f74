/**
 * An admin credential for the tests and benches, made the way an operator makes one
 * (docs/cli/admin.md): `outpost enrol create --admin NAME` at the hub, then `outpost admin login`
 * with the claim file. Returns the credential folder.
 */
import { join } from 'node:path';
import { HarnessError } from './harness-error.ts';
import { runCli } from './node-process.ts';

export async function loginAdmin(hubConfigFile: string, dir: string, name: string): Promise<{ credential: string; stdout: string }> {
  const claim = await runCli(['enrol', 'create', '--admin', name, '--write', `${name}.claim`, '--config', hubConfigFile], dir);
  if (claim.code !== 0) throw new HarnessError(`enrol create --admin ${name} failed: ${claim.stderr.trim()}`);
  const login = await runCli(['admin', 'login', '--claim-file', `${name}.claim`, '--dir', name], dir);
  if (login.code !== 0) throw new HarnessError(`admin login ${name} failed: ${login.stderr.trim()}`);
  return { credential: join(dir, name), stdout: login.stdout };
}
