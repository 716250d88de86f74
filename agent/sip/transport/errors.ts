import { AgentError } from '../../lib/errors.ts';

export type TransportErrorCode = 'transport.send' | 'transport.listen' | 'transport.connect' | 'transport.closed';

/** A failure to send, connect or bind; the transaction layer maps it to 503 (RFC 3261 §8.1.3.1). */
export class TransportError extends AgentError {
  declare readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
