/**
 * One RTP load generator process (forked by bench/lib/rtp-load.ts with an IPC channel). It owns
 * the two "phones" of each of its flows, one UDP socket each on 127.0.0.1: phone A sends to the
 * relay's leg-a port and receives what the relay forwards from B, and the other way round.
 *
 * Every packet is 172 bytes of UDP payload, as G.711 with 20 ms ptime: a 12-byte RTP header
 * (V=2, PT 0 PCMU, sequence, timestamp += 160, one SSRC per flow and direction) and 160 bytes
 * of which the first 20 carry the measurement fields:
 *
 *   [12..14) run id   [14..16) direction (0 = A->B, 1 = B->A)   [16..20) flow index
 *   [20..24) packet counter within the run   [24..32) send time (performance.now(), ms, float64)
 *
 * and the rest is 0xFF (µ-law silence). The receive time minus the send time is the latency of
 * the path generator -> relay -> generator; both ends are in this process, on one clock.
 *
 * Sending is paced, not bursty: the flows' packets are laid out round-robin over each 20 ms
 * period, and a 1 ms timer sends whatever is due, so each socket sends exactly every 20 ms (±
 * the timer's granularity) and the total rate is smooth. Packets of an earlier run that arrive
 * late are counted as stale, never as received.
 *
 * Commands (parent -> worker) and replies: ToWorker / FromWorker in rtp-load.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { HIST_BINS, latencyBin, type FromWorker, type ToWorker, type WorkerRunResult } from './rtp-load.ts';
import { HarnessError } from './harness-error.ts';

const PACKET_BYTES = 172;
const PTIME_MS = 20;
const HOST = '127.0.0.1';

interface Flow {
  a: Socket;
  b: Socket;
  aTarget: number;
  bTarget: number;
  /** Highest counter received, per direction (0: A->B, received on b; 1: B->A, received on a). */
  last: [number, number];
  seq: [number, number];
  ts: [number, number];
}

const flows: Flow[] = [];
const template = Buffer.alloc(PACKET_BYTES, 0xff);
template[0] = 0x80;
template[1] = 0; // PCMU

let currentRun = -1;
let received = 0;
let reordered = 0;
let stale = 0;
let misrouted = 0;
let socketErrors = 0;
let hist = new Uint32Array(HIST_BINS);

function send(msg: FromWorker): void {
  process.send!(msg);
}

function onPacket(msg: Buffer, flowIndex: number, dirExpected: 0 | 1): void {
  if (msg.length < 32) {
    stale++;
    return;
  }
  if (msg.readUInt16BE(12) !== currentRun) {
    stale++;
    return;
  }
  const now = performance.now();
  const dir = msg[15]!;
  const flow = msg.readUInt32BE(16);
  if (flow !== flowIndex || dir !== dirExpected) {
    misrouted++;
    return;
  }
  const counter = msg.readUInt32BE(20);
  const f = flows[flow]!;
  if (counter <= f.last[dir]!) reordered++;
  else f.last[dir] = counter;
  received++;
  hist[latencyBin(now - msg.readDoubleBE(24))]!++;
}

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, HOST, () => {
      s.off('error', reject);
      s.on('error', () => socketErrors++);
      resolve(s);
    });
  });
}

/**
 * Phones use connect()ed sockets: send() then needs no address (no lookup per packet), and the
 * kernel only delivers datagrams from the relay port the phone sends to. Both relays answer
 * from that same port (symmetric RTP), so nothing legitimate is filtered out.
 */
async function connectTo(s: Socket, port: number): Promise<void> {
  try {
    s.disconnect();
  } catch {
    // not connected yet
  }
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    try {
      s.connect(port, HOST);
    } catch (err) {
      reject(err as Error);
    }
  });
}

async function open(count: number): Promise<Array<{ a: number; b: number }>> {
  const ports: Array<{ a: number; b: number }> = [];
  for (let i = 0; i < count; i++) {
    const index = flows.length;
    const a = await bind();
    const b = await bind();
    // A receives B->A (direction 1), B receives A->B (direction 0).
    a.on('message', (m: Buffer) => onPacket(m, index, 1));
    b.on('message', (m: Buffer) => onPacket(m, index, 0));
    flows.push({ a, b, aTarget: 0, bTarget: 0, last: [-1, -1], seq: [(index * 7919) & 0xffff, (index * 104729) & 0xffff], ts: [index * 1000, index * 2000] });
    ports.push({ a: a.address().port, b: b.address().port });
  }
  return ports;
}

let sendErrors = 0;

/** Builds and sends one packet of flow `fi` in direction `dir`. */
function sendPacket(fi: number, dir: 0 | 1, runId: number, counter: number): void {
  const f = flows[fi]!;
  const buf = Buffer.allocUnsafe(PACKET_BYTES);
  template.copy(buf);
  const seq = (f.seq[dir] = (f.seq[dir] + 1) & 0xffff);
  const ts = (f.ts[dir] = (f.ts[dir] + 160) >>> 0);
  buf.writeUInt16BE(seq, 2);
  buf.writeUInt32BE(ts, 4);
  buf.writeUInt32BE(((fi << 1) | dir) >>> 0, 8);
  buf.writeUInt16BE(runId, 12);
  buf.writeUInt16BE(dir, 14);
  buf.writeUInt32BE(fi, 16);
  buf.writeUInt32BE(counter, 20);
  buf.writeDoubleBE(performance.now(), 24);
  try {
    if (dir === 0) f.a.send(buf);
    else f.b.send(buf);
  } catch {
    sendErrors++;
  }
}

/** One packet from every socket of the first `count` flows (latches the relay onto them). */
function prime(count: number): void {
  for (let fi = 0; fi < count; fi++) {
    sendPacket(fi, 0, 0, 0);
    sendPacket(fi, 1, 0, 0);
  }
}

function run(count: number, durationMs: number, drainMs: number, runId: number): Promise<WorkerRunResult> {
  if (count > flows.length) throw new HarnessError(`run of ${count} flows, only ${flows.length} open`);
  currentRun = runId;
  received = 0;
  reordered = 0;
  stale = 0;
  misrouted = 0;
  socketErrors = 0;
  sendErrors = 0;
  hist = new Uint32Array(HIST_BINS);
  for (let fi = 0; fi < count; fi++) flows[fi]!.last = [-1, -1];
  const slots = count * 2;
  const perSlot = Math.max(1, Math.round(durationMs / PTIME_MS));
  const total = slots * perSlot;
  const slotsPerMs = slots / PTIME_MS;
  const cpu0 = process.cpuUsage();
  let sent = 0;
  let maxLag = 0;
  const t0 = performance.now();
  let tLast = t0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) * slotsPerMs) + 1);
      if (due - sent > 1) maxLag = Math.max(maxLag, (due - sent - 1) / slotsPerMs);
      // At most 4000 packets per turn, so that receiving is not starved while catching up.
      const until = Math.min(due, sent + 4000);
      while (sent < until) {
        const slot = sent % slots;
        sendPacket(slot >> 1, (slot & 1) as 0 | 1, runId, Math.floor(sent / slots));
        sent++;
      }
      tLast = performance.now();
      if (sent < total) {
        if (until < due) setImmediate(tick);
        else setTimeout(tick, 1);
        return;
      }
      setTimeout(() => {
        const cpu = process.cpuUsage(cpu0);
        const result: WorkerRunResult = {
          flows: count,
          sent,
          received,
          reordered,
          stale,
          misrouted,
          sendSpanS: (tLast - t0) / 1000,
          maxSendLagMs: Math.round(maxLag * 100) / 100,
          hist: Array.from(hist),
          cpuS: (cpu.user + cpu.system) / 1e6,
          sendErrors,
          socketErrors,
        };
        currentRun = -1;
        resolve(result);
      }, drainMs);
    };
    tick();
  });
}

process.on('message', (raw: unknown) => {
  const msg = raw as ToWorker;
  void (async () => {
    try {
      switch (msg.type) {
        case 'open':
          send({ type: 'opened', ports: await open(msg.count) });
          break;
        case 'targets':
          for (const t of msg.targets) {
            const f = flows[t.flow];
            if (!f) throw new HarnessError(`no flow ${t.flow}`);
            f.aTarget = t.aSendsTo;
            f.bTarget = t.bSendsTo;
            await connectTo(f.a, t.aSendsTo);
            await connectTo(f.b, t.bSendsTo);
          }
          send({ type: 'ok' });
          break;
        case 'prime':
          prime(msg.count);
          send({ type: 'ok' });
          break;
        case 'run':
          send({ type: 'result', result: await run(msg.count, msg.durationMs, msg.drainMs, msg.runId) });
          break;
        case 'exit':
          for (const f of flows) {
            f.a.close();
            f.b.close();
          }
          process.exit(0);
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).stack ?? String(err) });
    }
  })();
});
// The parent is gone (or closed the channel): nothing left to do.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
