/**
 * The one logger: pino writing JSON lines. main.ts creates the root; every part receives a child
 * with a `mod` field. Secrets (digest responses, passwords) are redacted by path.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Destination file descriptor or stream; stdout when absent. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const opts = {
    level: options.level ?? 'info',
    base: undefined,
    redact: { paths: ['password', '*.password', 'authorization', '*.authorization', 'ha1', '*.ha1'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that writes nothing (tests, CLI commands that print their own output). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
