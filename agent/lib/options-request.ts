/**
 * The text of a one-shot SIP OPTIONS over UDP from 127.0.0.1 (a liveness probe: the box's health
 * check, the benchmarks' wait for a server). Plain TypeScript that Node runs without a compiler
 * (the health check runs under `node` alone on the box).
 */
export function optionsRequest(domain: string, localPort: number, id: string, who: string): string {
  return [
    `OPTIONS sip:${domain} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK-${who}-${id};rport`,
    `From: <sip:${who}@${domain}>;tag=${id}`,
    `To: <sip:${domain}>`,
    `Call-ID: ${who}-${id}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
