/**
 * Errors of the codec binding: the native library could not be loaded, or a native call returned
 * a negative op_* return code (native/codec/outpost_codec.h).
 */
import { AgentError } from '../../lib/errors.ts';

export type CodecErrorCode =
  /** native/build/liboutpostcodec.so is missing or does not load: run `bash setup.sh`. */
  | 'codec.load'
  /** A native call returned rc < 0 (bad frame size, corrupt payload, unknown codec, ...). */
  | 'codec.native'
  /** The binding was used wrongly (e.g. after close()). */
  | 'codec.closed';

export class CodecError extends AgentError {
  declare readonly code: CodecErrorCode;
  /** The native return code (OP_E*, negative); 0 when the error did not come from a native call. */
  readonly rc: number;

  constructor(code: CodecErrorCode, message: string, options?: { rc?: number; cause?: unknown }) {
    super(code, message, options);
    this.rc = options?.rc ?? 0;
  }
}

/** Native return codes (outpost_codec.h), for callers that branch on the kind of failure. */
export const CodecRc = {
  invalid: -1,
  noCodec: -2,
  noMemory: -3,
  frame: -4,
  buffer: -5,
  payload: -6,
  library: -7,
  rate: -8,
} as const;
