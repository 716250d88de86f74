/**
 * The trace socket's protocol (`<dataDir>/trace.sock`, docs/cli/trace.md): JSON lines. The
 * client sends one request line; the node answers one line (accepted or the reason not), then
 * one line per SIP message that matches, until either side closes.
 */
import type { TraceMatch } from './trace-filter.ts';

export const TRACE_SOCKET = 'trace.sock';

export interface TraceRequest {
  op: 'trace';
  match: TraceMatch;
}

export type TraceAnswer = { ok: true; node: string } | { ok: false; error: string };

/** One SIP message as it went over the wire. */
export interface TraceRecord {
  /** Microseconds since the epoch. */
  t: number;
  dir: 'in' | 'out';
  /** The transport: udp, tcp or tls. */
  proto: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** Messages the node could not pass on to this client before this one (a slow reader). */
  lost?: number;
  /** The message bytes, base64. */
  data: string;
}

/** The request line a client sends, or the reason it is not one. */
export function parseTraceRequest(line: string): TraceRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const v = value as { op?: unknown; match?: { user?: unknown; number?: unknown } };
  if (v.op !== 'trace' || typeof v.match !== 'object' || v.match === null) return 'expected {"op":"trace","match":{...}}';
  const { user, number } = v.match;
  if (typeof user === 'string' && user.length > 0 && number === undefined) return { op: 'trace', match: { user } };
  if (typeof number === 'string' && /\d/.test(number) && user === undefined) return { op: 'trace', match: { number } };
  return 'match must be {"user":"..."} or {"number":"..."} (with a digit)';
}
