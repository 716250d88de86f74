/** Sends one datagram from a fresh socket and resolves with the first reply's status line. */
import { createSocket } from 'node:dgram';

export interface ProbeTarget {
  host: string;
  port: number;
}

/**
 * `bytes` may be a function of the bound local port (to put it in a Via). Resolves undefined
 * when nothing arrives within `waitMs` (a bounded negative check).
 */
export function udpProbe(bytes: Buffer | ((localPort: number) => Buffer), target: ProbeTarget, waitMs: number, localIp = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    sock.on('error', reject);
    sock.bind(0, localIp, () => {
      const payload = typeof bytes === 'function' ? bytes(sock.address().port) : bytes;
      const timer = setTimeout(() => {
        sock.close();
        resolve(undefined);
      }, waitMs);
      sock.on('message', (data) => {
        clearTimeout(timer);
        sock.close();
        resolve(data.toString('latin1').split('\r\n')[0]);
      });
      sock.send(payload, target.port, target.host);
    });
  });
}

/** A minimal OPTIONS request from `localIp:localPort` with rport, for liveness and ban checks. */
export function optionsRequest(domain: string, localIp: string, localPort: number): Buffer {
  const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return Buffer.from(
    [
      `OPTIONS sip:${domain} SIP/2.0`,
      `Via: SIP/2.0/UDP ${localIp}:${localPort};branch=z9hG4bK-probe-${id};rport`,
      `From: <sip:probe@${domain}>;tag=p${id}`,
      `To: <sip:${domain}>`,
      `Call-ID: probe-${id}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
