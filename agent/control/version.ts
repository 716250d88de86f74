/** The software version: `version` of the package.json the agent runs from. */
import { readFileSync } from 'node:fs';

export const SOFTWARE_VERSION: string = (() => {
  try {
    return String((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
})();
