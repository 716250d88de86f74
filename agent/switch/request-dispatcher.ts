/**
 * The switch's entry for requests that opened a server transaction. It runs the UAS checks of
 * RFC 3261 §8.2 in the RFC's order, then hands the request to its handler:
 *   §8.2.1 method: 405 with Allow when SIP defines the method, 501 when it is unknown (§21.5.2);
 *   §8.2.2.1 Request-URI scheme: 416 unless sip/sips/tel;
 *   §8.2.2.3 Require: 420 with Unsupported for extensions this box lacks;
 *   §8.2.3 content: 415 with Accept/Accept-Encoding for a body it cannot read, and 406 for an
 *   INVITE whose Accept rules out the SDP answer.
 * REGISTER goes to the registrar; OPTIONS outside a dialog is answered here (§11); INVITE
 * and every request inside a dialog go to the call controller. Never silence.
 */
import type { Logger } from '../lib/logger.ts';
import type { SipRequest, SipResponse } from '../sip/message/sip-message.ts';
import { createResponse } from '../sip/message/create-response.ts';
import type { IncomingRequest } from '../sip/sip-endpoint.ts';
import { tagOf } from '../sip/transaction/header-fields.ts';
import type { CallController } from './calls/call-controller.ts';
import type { Registrar } from './registrar.ts';

export const ALLOWED_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'UPDATE', 'INFO', 'PRACK', 'MESSAGE', 'NOTIFY'];
/** Methods whose body the box reads (SDP); other bodies are passed through unread. */
const SDP_METHODS = new Set(['INVITE', 'ACK', 'UPDATE', 'PRACK']);
const ALLOW = ALLOWED_METHODS.join(', ');
/**
 * Option tags (RFC 3261 §19.2) this box supports: path (RFC 3327, stored and echoed), 100rel
 * (RFC 3262, reliable provisionals to callers that require them), timer (RFC 4028).
 */
export const SUPPORTED_OPTIONS = new Set(['path', '100rel', 'timer']);
const ACCEPTED_TYPES = new Set(['application/sdp']);
/** Methods SIP and its extensions define, which this box recognises but does not serve yet. */
const KNOWN_METHODS = new Set(['SUBSCRIBE', 'REFER', 'PUBLISH']);
const URI_SCHEMES = new Set(['sip', 'sips', 'tel']);

export interface DispatcherDeps {
  registrar: Registrar;
  calls: CallController;
  userAgent: string;
  logger: Logger;
}

export class RequestDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Answers a request, or hands it to the call controller, which answers it. */
  async dispatch(incoming: IncomingRequest): Promise<void> {
    const req = incoming.request;
    const respond = (res: SipResponse) => {
      res.headers.set('Server', this.deps.userAgent);
      incoming.respond(res);
    };
    try {
      const refusal = this.inspect(req);
      if (refusal) return respond(refusal);
      const inDialog = tagOf(req.headers.get('to')) !== '';
      if (req.method === 'REGISTER') return respond(await this.deps.registrar.handle(req, incoming.source));
      if (req.method === 'OPTIONS' && !inDialog) return respond(this.options(req));
      if ((req.method === 'MESSAGE' || req.method === 'NOTIFY') && !inDialog) return respond(this.notAllowed(req));
      this.deps.calls.handle({ ...incoming, respond });
    } catch (err) {
      this.deps.logger.error({ method: req.method, err: (err as Error).message }, 'request handler failed');
      respond(createResponse(req, 500, 'Server Internal Error'));
    }
  }

  private notAllowed(req: SipRequest): SipResponse {
    const res = createResponse(req, 405, 'Method Not Allowed');
    res.headers.set('Allow', ALLOW);
    return res;
  }

  /** The generic UAS checks of RFC 3261 §8.2; a response refuses the request. */
  private inspect(req: SipRequest): SipResponse | undefined {
    if (!ALLOWED_METHODS.includes(req.method)) {
      if (KNOWN_METHODS.has(req.method)) return this.notAllowed(req);
      const res = createResponse(req, 501, 'Not Implemented');
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
    if (req.body.length > 0 && SDP_METHODS.has(req.method)) {
      const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const encodings = req.headers.getAll('content-encoding').map((e) => e.trim().toLowerCase());
      if (!ACCEPTED_TYPES.has(type) || encodings.some((e) => e !== 'identity')) {
        const res = createResponse(req, 415, 'Unsupported Media Type');
        res.headers.set('Accept', [...ACCEPTED_TYPES].join(', '));
        res.headers.set('Accept-Encoding', 'identity');
        return res;
      }
    }
    // An INVITE whose Accept excludes SDP cannot be answered with a session (RFC 3261 §21.4.7).
    const accept = req.headers.getAll('accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
    if (req.method === 'INVITE' && accept.length > 0 && !accept.some((a) => a === 'application/sdp' || a === 'application/*' || a === '*/*')) {
      const res = createResponse(req, 406, 'Not Acceptable');
      res.headers.set('Accept', [...ACCEPTED_TYPES].join(', '));
      return res;
    }
    return undefined;
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
