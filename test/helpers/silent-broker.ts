/**
 * An aedes broker on 127.0.0.1 (port 0) that can go silent: while `silent`, it holds every
 * PUBLISH it receives without acknowledging it (authorizePublish never answers), with the TCP
 * connection open, as a broker behind a cut cable looks until the MQTT keep-alive notices.
 * For the backpressure tests of agent/sync/broker-link.ts and agent/sync/replicator.ts.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

export interface SilentBroker {
  url: string;
  /** While true, publishes are held unacknowledged. */
  silent: boolean;
  /** Acknowledges every held publish. */
  release(): void;
  close(): Promise<void>;
}

/** An aedes broker on port 0 that can stop acknowledging publishes. */
export async function silentBroker(): Promise<SilentBroker> {
  const held: Array<() => void> = [];
  const b: SilentBroker = {
    url: '',
    silent: false,
    release: () => {
      for (const ack of held.splice(0)) ack();
    },
    close: async () => {
      b.release();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const aedes = await Aedes.createBroker({
    authorizePublish: (_client, _packet, callback) => (b.silent ? held.push(() => callback(null)) : callback(null)),
  });
  const server = net.createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  b.url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return b;
}
