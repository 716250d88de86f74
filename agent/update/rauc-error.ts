/**
 * Why a `rauc` command failed, in one line for the update state (docs/updates.md). `rauc
 * install` talks to RAUC's service and, when the install fails, prints its progress, then
 * `LastError: <the cause>` (a refused signature, a bundle that does not mount, ...) and last a
 * generic `Installing \`FILE\` failed`. The cause is what an admin needs at the hub.
 */
const LAST_ERROR = 'LastError: ';

/** RAUC's `LastError:` text from either stream, else the last line on stderr; undefined if none. */
export function raucFailureReason(stdout: string, stderr: string): string | undefined {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => l.startsWith(LAST_ERROR));
  if (cause !== undefined) return cause.slice(LAST_ERROR.length);
  const last = stderr.trim().split('\n').pop()?.trim();
  return last === '' ? undefined : last;
}
