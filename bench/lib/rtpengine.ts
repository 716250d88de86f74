/**
 * rtpengine (Debian rtpengine-daemon, userspace forwarding only) as the reference RTP relay for
 * bench/media-relay.ts: runs it in the foreground with bench/rtpengine/rtpengine.conf, and
 * talks to it over its ng control protocol (bencoded dictionaries over UDP, each message
 * prefixed with a cookie that the reply echoes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bdecode, bencode, type BValue } from './bencode.ts';
import { captureOutput, freeUdpPort, processCpuSeconds, processRssMb, stopProcess } from './procs.ts';
import { HarnessError } from './harness-error.ts';

export const RTPENGINE_CONFIG = fileURLToPath(new URL('../rtpengine/rtpengine.conf', import.meta.url));

/** The installed rtpengine's version, or undefined when there is none. */
export function rtpengineVersion(): string | undefined {
  const res = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return undefined;
  return /Version:\s*(\S+)/.exec(`${res.stdout}${res.stderr}`)?.[1] ?? 'unknown';
}

type Dict = { [key: string]: BValue };

/** A client for the ng protocol: one UDP socket, requests matched to replies by cookie. */
export class NgClient {
  private readonly socket: Socket;
  private readonly pending = new Map<string, { resolve: (d: Dict) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private seq = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  private constructor(socket: Socket, private readonly target: { host: string; port: number }) {
    this.socket = socket;
    socket.on('message', (msg) => this.onMessage(msg));
  }

  static async open(target: { host: string; port: number }): Promise<NgClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new NgClient(socket, target);
  }

  /**
   * Sends one command and resolves with the reply dictionary. A lost datagram is sent again
   * (same cookie: rtpengine answers a repeated cookie from its cache) up to `attempts` times.
   */
  async request(command: Dict, timeoutMs = 1000, attempts = 3): Promise<Dict> {
    const cookie = `${this.prefix}-${++this.seq}`;
    const data = Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), bencode(command)]);
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<Dict>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending.delete(cookie);
            reject(new HarnessError(`ng ${String(command['command'])}: no reply within ${timeoutMs} ms`));
          }, timeoutMs);
          this.pending.set(cookie, { resolve, reject, timer });
          this.socket.send(data, this.target.port, this.target.host);
        });
      } catch (err) {
        if (attempt >= attempts) throw err;
      }
    }
  }

  /** Like request(), but throws unless the reply's result is "ok" (or "pong" for ping). */
  async ok(command: Dict, timeoutMs?: number): Promise<Dict> {
    const reply = await this.request(command, timeoutMs);
    const result = reply['result'];
    if (result !== 'ok' && result !== 'pong') {
      throw new HarnessError(`ng ${String(command['command'])} failed: ${String(result)} ${String(reply['error-reason'] ?? '')}`);
    }
    return reply;
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new HarnessError('ng client closed'));
    }
    this.pending.clear();
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private onMessage(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    if (space < 0) return;
    const cookie = msg.toString('latin1', 0, space);
    const p = this.pending.get(cookie);
    if (!p) return;
    this.pending.delete(cookie);
    clearTimeout(p.timer);
    try {
      const value = bdecode(msg.subarray(space + 1));
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) throw new HarnessError('ng reply is not a dictionary');
      p.resolve(value);
    } catch (err) {
      p.reject(err as Error);
    }
  }
}

export interface RtpengineOptions {
  /** Working directory (pid file, log). */
  dir: string;
  portMin: number;
  portMax: number;
  /** rtpengine --num-threads (worker threads that poll the media sockets). */
  threads: number;
}

export interface RtpengineProcess {
  proc: ChildProcess;
  ng: NgClient;
  ngPort: number;
  /** CPU seconds (all threads) used so far. */
  cpuSeconds(): number;
  /** The last ~100 kB rtpengine logged (all of it is in <dir>/rtpengine.log). */
  output(): string;
  /** Why it is gone, once it has exited (or could not start). */
  dead(): string | undefined;
  stop(): Promise<number | null>;
}

export async function startRtpengine(options: RtpengineOptions): Promise<RtpengineProcess> {
  const ngPort = await freeUdpPort();
  const args = [
    `--config-file=${RTPENGINE_CONFIG}`,
    '--config-section=bench',
    `--listen-ng=127.0.0.1:${ngPort}`,
    `--port-min=${options.portMin}`,
    `--port-max=${options.portMax}`,
    `--num-threads=${options.threads}`,
    `--pidfile=${join(options.dir, 'rtpengine.pid')}`,
  ];
  const proc = spawn('rtpengine', args, { cwd: options.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(proc, join(options.dir, 'rtpengine.log'));
  let exitInfo: string | undefined;
  proc.once('exit', (code, signal) => (exitInfo = `rtpengine exited (code ${code}, signal ${signal}): ${output().slice(-2000)}`));
  proc.once('error', (err) => (exitInfo = `rtpengine could not start: ${err.message}`));
  const ng = await NgClient.open({ host: '127.0.0.1', port: ngPort });
  const handle: RtpengineProcess = {
    proc,
    ng,
    ngPort,
    cpuSeconds: () => processCpuSeconds(proc.pid!),
    output,
    dead: () => exitInfo,
    stop: async () => {
      ng.close();
      return stopProcess(proc, { graceMs: 5000 });
    },
  };
  // Wait (bounded) for the ng socket to answer a ping.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exitInfo) {
      await handle.stop();
      throw new HarnessError(exitInfo);
    }
    try {
      await ng.ok({ command: 'ping' }, 300);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await handle.stop();
        throw new HarnessError(`rtpengine did not answer an ng ping within 10 s: ${(err as Error).message}\n${output().slice(-2000)}`);
      }
    }
  }
  return handle;
}

/** A minimal audio offer/answer body with media on `port` of 127.0.0.1 (PCMU unless told otherwise). */
export function audioSdp(port: number, sessionId: number, payloadTypes: Array<[number, string]> = [[0, 'PCMU/8000']]): string {
  return [
    'v=0',
    `o=- ${sessionId} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${payloadTypes.map(([pt]) => pt).join(' ')}`,
    ...payloadTypes.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** The first m=audio port and the c= address of an SDP body. */
export function sdpMedia(sdp: string): { address: string; port: number } {
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp);
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!c || !m) throw new HarnessError(`no c= or m=audio line in SDP:\n${sdp}`);
  return { address: c[1]!, port: Number(m[1]) };
}

/**
 * One call through rtpengine: offer from A (media at `aPort`), answer from B (`bPort`). The
 * rewritten offer goes to B, so its port is where B sends; the rewritten answer goes to A, so
 * its port is where A sends.
 */
export async function rtpengineCall(ng: NgClient, callId: string, aPort: number, bPort: number): Promise<{ aSendsTo: number; bSendsTo: number }> {
  const fromTag = `a-${callId}`;
  const toTag = `b-${callId}`;
  const common = { 'call-id': callId, replace: ['origin', 'session-connection'], ICE: 'remove' };
  const offer = await ng.ok({ command: 'offer', ...common, 'from-tag': fromTag, sdp: audioSdp(aPort, 1) }, 2000);
  const answer = await ng.ok({ command: 'answer', ...common, 'from-tag': fromTag, 'to-tag': toTag, sdp: audioSdp(bPort, 2) }, 2000);
  const bSide = sdpMedia(String(offer['sdp']));
  const aSide = sdpMedia(String(answer['sdp']));
  if (aSide.address !== '127.0.0.1' || bSide.address !== '127.0.0.1') throw new HarnessError(`rtpengine answered with ${aSide.address}/${bSide.address}, not 127.0.0.1`);
  return { aSendsTo: aSide.port, bSendsTo: bSide.port };
}

/** What both relay benches report of rtpengine as the relay under test. */
export function rtpengineUnderTest(rtpe: RtpengineProcess) {
  return {
    name: 'rtpengine' as const,
    rtpengine: rtpe,
    pid: rtpe.proc.pid!,
    cpuSeconds: () => rtpe.cpuSeconds(),
    rssMb: () => processRssMb(rtpe.proc.pid!),
    dead: rtpe.dead,
  };
}
