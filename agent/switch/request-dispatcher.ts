/**
 * The switch's entry for requests that opened a server transaction. It runs the UAS checks of
 * RFC 3261 §8.2 in the RFC's order, then hands the request to its handler:
 *   §8.2.1 method: 405 with Allow when SIP defines the method, 501 when it is unknown (§21.5.2);
 *   §8.2.2.1 Request-URI scheme: 416 unless sip/sips/tel;
 *   §8.2.2.3 Require: 420 with Unsupported for extensions this box lacks;
 *   §8.2.3 content: 415 with Accept/Accept-Encoding for a body it cannot read.
 * REGISTER goes to the registrar; OPTIONS is answered here (§11). Never silence.
 */
import type { Logger } from '../lib/logger.ts';
import type { SipRequest, SipResponse } from '../sip/message/sip-message.ts';
import { createResponse } from '../sip/message/create-response.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import type { Registrar } from './registrar.ts';

export const ALLOWED_METHODS = ['REGISTER', 'OPTIONS'];
const ALLOW = ALLOWED_METHODS.join(', ');
/** Option tags (RFC 3261 §19.2) this box supports: Path (RFC 3327) is stored and echoed. */
export const SUPPORTED_OPTIONS = new Set(['path']);
const ACCEPTED_TYPES = new Set(['application/sdp']);
/** Methods SIP and its extensions define, which this box recognises but does not serve yet. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'PRACK', 'UPDATE', 'INFO', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'PUBLISH']);
const URI_SCHEMES = new Set(['sip', 'sips', 'tel']);

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
      res = this.inspect(req) ?? (await this.route(req, source));
    } catch (err) {
      this.deps.logger.error({ method: req.method, err: (err as Error).message }, 'request handler failed');
      res = createResponse(req, 500, 'Server Internal Error');
    }
    res.headers.set('Server', this.deps.userAgent);
    respond(res);
  }

  /** The generic UAS checks of RFC 3261 §8.2; a response refuses the request. */
  private inspect(req: SipRequest): SipResponse | undefined {
    if (!ALLOWED_METHODS.includes(req.method)) {
      const known = KNOWN_METHODS.has(req.method);
      const res = createResponse(req, known ? 405 : 501, known ? 'Method Not Allowed' : 'Not Implemented');
      res.headers.set('Allow', ALLOW);
      return res;
    }
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(req.uri)?.[1]?.toLowerCase();
    if (!scheme || !URI_SCHEMES.has(scheme)) return createResponse(req, 416, 'Unsupported URI Scheme');
    const unsupported = req.headers
      .getAll('require')
      .map((o) => o.trim())
      .filter((o) => o && !SUPPORTED_OPTIONS.has(o.toLowerCase()));
    if (unsupported.length > 0) {
      const res = createResponse(req, 420, 'Bad Extension');
      res.headers.set('Unsupported', unsupported.join(', '));
      return res;
    }
    if (req.body.length > 0) {
      const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const encodings = req.headers.getAll('content-encoding').map((e) => e.trim().toLowerCase());
      if (!ACCEPTED_TYPES.has(type) || encodings.some((e) => e !== 'identity')) {
        const res = createResponse(req, 415, 'Unsupported Media Type');
        res.headers.set('Accept', [...ACCEPTED_TYPES].join(', '));
        res.headers.set('Accept-Encoding', 'identity');
        return res;
      }
    }
    return undefined;
  }

  private route(req: SipRequest, source: Endpoint): Promise<SipResponse> | SipResponse {
    if (req.method === 'REGISTER') return this.deps.registrar.handle(req, source);
    return this.options(req);
  }

  private options(req: SipRequest): SipResponse {
    const res = createResponse(req, 200, 'OK');
    res.headers.set('Allow', ALLOW);
    res.headers.set('Accept', [...ACCEPTED_TYPES].join(', '));
    res.headers.set('Accept-Encoding', 'identity');
    res.headers.set('Accept-Language', 'en');
    res.headers.set('Supported', [...SUPPORTED_OPTIONS].join(', '));
    return res;
  }
}
