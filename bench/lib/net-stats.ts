/**
 * Kernel counters where a datagram on loopback can be dropped without anyone being told: a full
 * UDP receive buffer (RcvbufErrors), a failed send (SndbufErrors), and the per-CPU input backlog
 * (netdev_max_backlog; /proc/net/softnet_stat, second column). Whole network namespace.
 */
import { readFileSync } from 'node:fs';

export interface NetDrops {
  udpRcvbufErrors: number;
  udpSndbufErrors: number;
  udpInErrors: number;
  softnetDropped: number;
}

export function netDrops(): NetDrops {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1).map(Number) ?? [];
  const get = (n: string) => values[names.indexOf(n)] ?? 0;
  let softnetDropped = 0;
  try {
    for (const line of readFileSync('/proc/net/softnet_stat', 'utf8').split('\n')) {
      const col = line.trim().split(/\s+/)[1];
      if (col) softnetDropped += parseInt(col, 16);
    }
  } catch {
    // not available
  }
  return { udpRcvbufErrors: get('RcvbufErrors'), udpSndbufErrors: get('SndbufErrors'), udpInErrors: get('InErrors'), softnetDropped };
}

/** b - a, field by field. */
export function netDropsSince(a: NetDrops): NetDrops {
  const b = netDrops();
  return {
    udpRcvbufErrors: b.udpRcvbufErrors - a.udpRcvbufErrors,
    udpSndbufErrors: b.udpSndbufErrors - a.udpSndbufErrors,
    udpInErrors: b.udpInErrors - a.udpInErrors,
    softnetDropped: b.softnetDropped - a.softnetDropped,
  };
}
