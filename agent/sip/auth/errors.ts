/**
 * Errors of the digest-authentication layer (RFC 3261 §22, RFC 8760).
 *
 * Only programming and parse problems throw. The outcome of checking a request's credentials
 * is never an exception: DigestAuthenticator.verify() returns a result union, and the registrar
 * turns that into 401/407/403. AuthError is thrown by the header codec (malformed input, caught
 * inside verify()), by the digest functions (an algorithm or qop they do not implement) and by
 * constructors given bad options.
 */
import { AgentError } from '../../lib/errors.ts';

export type AuthErrorCode =
  /** A `Digest ...` header value that does not follow the auth-param grammar. */
  | 'sip.auth.malformed-header'
  /** An algorithm token this module does not implement. */
  | 'sip.auth.unsupported-algorithm'
  /** A qop value this module does not implement (only `auth` and the RFC 2069 form are). */
  | 'sip.auth.unsupported-qop'
  /** A caller passed values that cannot be used (bad option, unquotable value, missing cnonce). */
  | 'sip.auth.invalid-argument';

export class AuthError extends AgentError {
  declare readonly code: AuthErrorCode;
  /** For `sip.auth.malformed-header`: character offset in the header value where parsing stopped. */
  readonly offset: number | undefined;

  constructor(code: AuthErrorCode, message: string, options?: { offset?: number; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.offset = options?.offset;
  }
}

/** True when `err` is an AuthError (optionally one with the given code). */
export function isAuthError(err: unknown, code?: AuthErrorCode): err is AuthError {
  return err instanceof AuthError && (code === undefined || err.code === code);
}

/**
 * True when the error came from the peer's input rather than from our own configuration: the
 * SIP layer answers those with 400 (or a fresh challenge), the others are bugs to log.
 */
export function isPeerInputError(err: unknown): boolean {
  return (
    err instanceof AuthError &&
    (err.code === 'sip.auth.malformed-header' ||
      err.code === 'sip.auth.unsupported-algorithm' ||
      err.code === 'sip.auth.unsupported-qop')
  );
}
