/**
 * `proto:host:port` listen addresses (sip.listen). IPv6 hosts are written in brackets:
 * `udp:[::1]:5070`. `tls:` is SIP over TLS (docs/sip-tls.md); its usual port is 5061.
 */
export type ListenProtocol = 'udp' | 'tcp' | 'tls';

export interface ListenAddress {
  protocol: ListenProtocol;
  host: string;
  port: number;
}

const PATTERN = /^(udp|tcp|tls):(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses one listen address; returns a reason string when it is malformed. */
export function parseListenAddress(text: string): ListenAddress | string {
  const m = PATTERN.exec(text.trim());
  if (!m) return `expected "udp|tcp|tls:host:port" (e.g. "udp:127.0.0.1:5070"), got "${text}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { protocol: m[1] as ListenProtocol, host, port };
}

export function formatListenAddress(a: ListenAddress): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${a.protocol}:${host}:${a.port}`;
}
