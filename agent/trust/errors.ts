import { AgentError } from '../lib/errors.ts';

/**
 * Codes of the trust layer (the hub's CA, claim codes, enrolment). The `claim.*` codes and
 * `enrol.rate-limited` are what a box is told when the hub refuses it; the others are local.
 */
export type TrustErrorCode =
  | 'trust.claim-format'
  | 'trust.claim-wrong'
  | 'trust.claim-used'
  | 'trust.claim-expired'
  | 'trust.claim-revoked'
  | 'trust.claim-node'
  | 'trust.claim-site'
  | 'trust.claim-role'
  | 'trust.claim-unknown'
  | 'trust.csr'
  | 'trust.rate-limited'
  | 'trust.ca'
  | 'trust.certificate'
  | 'trust.files'
  | 'trust.protocol'
  | 'trust.unreachable'
  | 'trust.tampered'
  | 'trust.renewal'
  | 'trust.mosquitto';

/** A refusal or failure of the trust layer; `code` says which (see TrustErrorCode). */
export class TrustError extends AgentError {
  declare readonly code: TrustErrorCode;
  constructor(code: TrustErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** True for the refusals a box caused and may be counted against its address (rate limit). */
export function isClientFault(err: unknown): boolean {
  return err instanceof TrustError && ['trust.claim-wrong', 'trust.claim-used', 'trust.claim-expired', 'trust.claim-revoked', 'trust.claim-node', 'trust.claim-site', 'trust.claim-role', 'trust.csr', 'trust.protocol'].includes(err.code);
}
