/**
 * A SIP client over TLS in the test process (sipp here has no TLS): one connection, messages
 * framed and parsed with the project's stream framer and parser. Server authentication against
 * `ca` without a host name check (a box's node certificate names its node, not a host).
 */
import { connect, type TLSSocket } from 'node:tls';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { parseMessage } from '../../agent/sip/message/parse-message.ts';
import type { SipResponse } from '../../agent/sip/message/sip-message.ts';
import { SipStreamFramer } from '../../agent/sip/message/stream-framer.ts';

export interface SipTlsClient {
  socket: TLSSocket;
  /** The local port (for Via and Contact). */
  port: number;
  send(text: string): void;
  /** The next final response (status >= 200) not yet taken. */
  final(timeoutMs?: number): Promise<SipResponse>;
  close(): void;
}

export async function openSipTls(o: { host: string; port: number; ca: string; key?: string; cert?: string }): Promise<SipTlsClient> {
  const socket = connect({ host: o.host, port: o.port, ca: o.ca, checkServerIdentity: () => undefined, ...(o.key && o.cert ? { key: o.key, cert: o.cert } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const finals: SipResponse[] = [];
  const framer = new SipStreamFramer();
  socket.on('data', (chunk) => {
    for (const m of framer.push(chunk)) {
      const parsed = parseMessage(m);
      if (parsed.ok && parsed.message.type === 'response' && parsed.message.status >= 200) finals.push(parsed.message);
    }
  });
  return {
    socket,
    port: socket.localPort!,
    send: (text) => void socket.write(text),
    final: (timeoutMs = 5_000) => waitFor(() => finals.shift(), 'a final response over TLS', timeoutMs),
    close: () => socket.destroy(),
  };
}
