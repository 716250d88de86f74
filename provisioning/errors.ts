/**
 * The one error type of the flash tool (provisioning/, docs/flash.md). Each is printed as one
 * line `outpost-flash: <message>`; the code picks the exit status (cli.ts).
 */
import { AgentError } from '../agent/lib/errors.ts';

export type FlashErrorCode =
  /** Bad command line (exit 2). */
  | 'flash.usage'
  /** A target the tool will not write: mounted, the system's disk, too small, a partition (exit 3). */
  | 'flash.refused'
  /** The image does not match its SHA256SUMS, or the read-back does not match the image (exit 4). */
  | 'flash.verify'
  /** Reading the image or writing the target failed (exit 1). */
  | 'flash.io';

export class FlashError extends AgentError {
  declare readonly code: FlashErrorCode;

  constructor(code: FlashErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

const EXIT: Record<FlashErrorCode, number> = { 'flash.io': 1, 'flash.usage': 2, 'flash.refused': 3, 'flash.verify': 4 };

/** The exit status for an error (1 for anything that is not a FlashError). */
export function exitCodeOf(err: unknown): number {
  return err instanceof FlashError ? EXIT[err.code] : 1;
}
