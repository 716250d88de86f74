/**
 * The node's end of `outpost trace`: a Unix socket in the data directory (mode 0600, so only the
 * box's own user, and root, can connect). Each client asks for the SIP of a user or a number and
 * gets every matching message as it is received or sent (trace-wire.ts). The endpoint is
 * observed only while a client is connected. A client that reads too slowly loses messages (they
 * are counted and told in the next record): tracing never holds the SIP path up.
 */
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import type { SipTraffic, SipTrafficObserver } from '../sip/sip-traffic.ts';
import { sipFlow } from './hep-packets.ts';
import { nowMicros } from './hep-packets.ts';
import { TraceFilter } from './trace-filter.ts';
import { parseTraceRequest, TRACE_SOCKET, type TraceAnswer, type TraceRecord } from './trace-wire.ts';

export interface TraceSocketOptions {
  dataDir: string;
  nodeId: string;
  /** Subscribes to the endpoint's traffic; returns the unsubscribe. */
  observe: (observer: SipTrafficObserver) => () => void;
  logger: Logger;
}

interface Client {
  socket: Socket;
  filter: TraceFilter;
  lost: number;
  sent: number;
}

/** Bytes queued for one client beyond which its messages are dropped. */
const MAX_QUEUED = 4 * 1024 * 1024;
/** sockaddr_un's sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export class TraceSocket {
  readonly path: string;
  private server: Server | undefined;
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: TraceSocketOptions) {
    this.path = join(options.dataDir, TRACE_SOCKET);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    if (Buffer.byteLength(this.path) > MAX_SOCKET_PATH) {
      logger.warn({ path: this.path }, 'trace socket not opened: the data directory path is too long for a Unix socket; outpost trace will not work');
      return;
    }
    if (await isLive(this.path)) {
      logger.warn({ path: this.path }, 'trace socket not opened: another process serves it');
      return;
    }
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(this.path, 0o600);
    } catch (err) {
      server.close();
      logger.warn({ path: this.path, err: (err as Error).message }, 'trace socket not opened; outpost trace will not work');
      return;
    }
    server.on('error', (err) => logger.warn({ err: err.message }, 'trace socket error'));
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  private accept(socket: Socket): void {
    let buffered = '';
    let client: Client | undefined;
    const answer = (a: TraceAnswer) => socket.write(`${JSON.stringify(a)}\n`);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (client) return; // one request per connection; anything after it is ignored
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) {
        if (buffered.length > 4096) socket.destroy();
        return;
      }
      const request = parseTraceRequest(buffered.slice(0, nl));
      if (typeof request === 'string') {
        answer({ ok: false, error: request });
        socket.end();
        return;
      }
      client = { socket, filter: new TraceFilter(request.match), lost: 0, sent: 0 };
      this.clients.add(client);
      this.unsubscribe ??= this.options.observe(this.onTraffic);
      answer({ ok: true, node: this.options.nodeId });
      this.options.logger.info({ match: request.match }, 'trace client connected');
    });
    const drop = () => {
      if (!client || !this.clients.delete(client)) return;
      this.options.logger.info({ match: client.filter.match, sent: client.sent, lost: client.lost }, 'trace client gone');
      if (this.clients.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
    socket.on('error', () => socket.destroy());
    socket.on('close', drop);
  }

  private readonly onTraffic = (t: SipTraffic): void => {
    let line: string | undefined;
    for (const c of this.clients) {
      if (!c.filter.accepts(t.message)) continue;
      if (c.socket.writableLength > MAX_QUEUED) {
        c.lost++;
        continue;
      }
      line ??= recordLine(t);
      if (c.lost > 0) {
        const record = JSON.parse(line) as TraceRecord;
        c.socket.write(`${JSON.stringify({ ...record, lost: c.lost })}\n`);
        c.lost = 0;
      } else {
        c.socket.write(line);
      }
      c.sent++;
    }
  };
}

function recordLine(t: SipTraffic): string {
  const flow = sipFlow(t);
  const record: TraceRecord = {
    t: nowMicros(),
    dir: t.direction,
    proto: t.local.protocol,
    src: flow.srcIp,
    srcPort: flow.srcPort,
    dst: flow.dstIp,
    dstPort: flow.dstPort,
    data: t.data.toString('base64'),
  };
  return `${JSON.stringify(record)}\n`;
}

/** True when a process accepts connections on the socket at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
