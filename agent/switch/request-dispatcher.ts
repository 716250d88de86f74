/**
 * The switch's entry for requests that opened a server transaction: REGISTER goes to the
 * registrar, OPTIONS is answered here (RFC 3261 §11), and every other method gets 405 with
 * Allow when SIP defines it (§8.2.1) or 501 when it is unknown (§21.5.2). Never silence.
 */
import type { Logger } from '../lib/logger.ts';
import type { SipRequest, SipResponse } from '../sip/message/sip-message.ts';
import { createResponse } from '../sip/message/create-response.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import type { Registrar } from './registrar.ts';

export const ALLOWED_METHODS = ['REGISTER', 'OPTIONS'];
const ALLOW = ALLOWED_METHODS.join(', ');
const SUPPORTED = 'path';
/** Methods SIP extensions define that this box recognises but does not serve yet. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'PRACK', 'UPDATE', 'INFO', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'PUBLISH']);

export interface DispatcherDeps {
  registrar: Registrar;
  userAgent: string;
  logger: Logger;
}

export class RequestDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Produces the final response for a request; `respond` is called exactly once. */
  async dispatch(req: SipRequest, source: Endpoint, respond: (res: SipResponse) => void): Promise<void> {
    let res: SipResponse;
    try {
      res = await this.route(req, source);
    } catch (err) {
      this.deps.logger.error({ method: req.method, err: (err as Error).message }, 'request handler failed');
      res = createResponse(req, 500, 'Server Internal Error');
    }
    res.headers.set('Server', this.deps.userAgent);
    respond(res);
  }

  private route(req: SipRequest, source: Endpoint): Promise<SipResponse> | SipResponse {
    switch (req.method) {
      case 'REGISTER':
        return this.deps.registrar.handle(req, source);
      case 'OPTIONS':
        return this.options(req);
      default: {
        const known = KNOWN_METHODS.has(req.method);
        const res = createResponse(req, known ? 405 : 501, known ? 'Method Not Allowed' : 'Not Implemented');
        res.headers.set('Allow', ALLOW);
        return res;
      }
    }
  }

  private options(req: SipRequest): SipResponse {
    const res = createResponse(req, 200, 'OK');
    res.headers.set('Allow', ALLOW);
    res.headers.set('Accept', 'application/sdp');
    res.headers.set('Accept-Encoding', 'identity');
    res.headers.set('Accept-Language', 'en');
    res.headers.set('Supported', SUPPORTED);
    return res;
  }
}
