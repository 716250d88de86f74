/**
 * The box's health (docs/status-page.md, /healthz, `outpost status`): healthy when its SIP
 * transports listen, its store answers, its event loop keeps up and its certificate is not
 * revoked. A pure decision over what the shell read; the reasons are short sentences.
 */

/** Event-loop lag (mean over the last second) above this is unhealthy: the box answers late. */
export const LOOP_LAG_BOUND_MS = 1000;

export interface HealthInputs {
  /** Every `sip.listen` address is bound. */
  sipListening: boolean;
  /** A read of the store succeeded; the error's message otherwise. */
  store: true | string;
  loopLagMs: number;
  /** This box's node key is bound by a revoked certificate. */
  revoked: boolean;
}

export interface Health {
  healthy: boolean;
  reasons: string[];
}

export function decideHealth(h: HealthInputs): Health {
  const reasons: string[] = [];
  if (!h.sipListening) reasons.push('SIP is not listening');
  if (h.store !== true) reasons.push(`the store does not open: ${h.store}`);
  if (h.loopLagMs > LOOP_LAG_BOUND_MS) reasons.push(`event loop lags ${Math.round(h.loopLagMs)} ms (bound ${LOOP_LAG_BOUND_MS} ms)`);
  if (h.revoked) reasons.push("this box's certificate is revoked");
  return { healthy: reasons.length === 0, reasons };
}
