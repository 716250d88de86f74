/** Resolves on the first SIGINT or SIGTERM, and removes its listeners again. */
import type { Logger } from '../lib/logger.ts';

export function untilStopSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      logger.info({ signal }, 'stopping');
      resolve(signal);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
