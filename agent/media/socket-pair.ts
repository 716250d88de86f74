/**
 * Binding the two UDP sockets of one relay leg: RTP on an even port, RTCP on the next one.
 *
 * The sockets get a lookup function that answers IP literals synchronously. dgram.send() on an
 * unconnected socket resolves the destination through the socket's lookup for every datagram;
 * the default (dns.lookup) defers an IP literal to the next tick, which costs a tick and a
 * closure per relayed packet. Host names (rare in SDP) still go through dns.lookup.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { BindError } from '../lib/errors.ts';

export interface SocketPair {
  rtp: Socket;
  rtcp: Socket;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

function literalLookup(address: string, family: unknown, callback: LookupCallback): void {
  const literal = isIP(address);
  if (literal !== 0) {
    callback(null, address, literal);
    return;
  }
  const fam = typeof family === 'number' ? family : 0;
  dnsLookup(address, { family: fam }, (err, resolved, resolvedFamily) => callback(err, resolved, resolvedFamily));
}

/** Binds one UDP socket; rejects with a BindError (its `errno` tells a taken port apart). */
export function bindUdp(address: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', lookup: literalLookup as never });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(new BindError('udp', address, port, err));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Binds `rtpPort` and `rtpPort + 1` on `address`; both or neither. */
export async function bindSocketPair(address: string, rtpPort: number): Promise<SocketPair> {
  const rtp = await bindUdp(address, rtpPort);
  try {
    const rtcp = await bindUdp(address, rtpPort + 1);
    return { rtp, rtcp };
  } catch (err) {
    rtp.close();
    throw err;
  }
}

/** Closes a socket, ignoring one that is already closed. */
export function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed
  }
}
