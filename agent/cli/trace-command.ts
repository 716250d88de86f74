/**
 * `outpost trace --user U | --number N [--duration S] [--out FILE] --config FILE`: asks the
 * running node, over its trace socket (`<dataDir>/trace.sock`, agent/trace/trace-socket.ts), for
 * the SIP of the calls and registrations of a user or a number, and writes them to a pcap file
 * as they come (agent/trace/pcap-writer.ts). Stops after the duration, on Ctrl-C (SIGINT) or
 * SIGTERM, or when the node stops; the file is complete in every case.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { pcapFileHeader, pcapRecord } from '../trace/pcap-writer.ts';
import type { TraceMatch } from '../trace/trace-filter.ts';
import { TRACE_SOCKET, type TraceAnswer, type TraceRecord, type TraceRequest } from '../trace/trace-wire.ts';
import { CliError, NotRunningError } from './cli-error.ts';
import { loadCliTarget } from './cli-target.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { readRuntimeInfo } from './runtime-file.ts';

interface TraceOptions {
  user?: string;
  number?: string;
  duration?: string;
  out?: string;
  config: string;
}

export function registerTraceCommand(program: Command, out: (line: string) => void, warn: (line: string) => void): void {
  program
    .command('trace')
    .description("write the SIP of a user's or a number's calls and registrations on the running node to a pcap file")
    .option('--user <ext>', 'messages whose From, To or Request-URI user is EXT, and the rest of their calls')
    .option('--number <digits>', 'messages whose From, To or Request-URI user ends with these digits, and the rest of their calls')
    .option('--duration <seconds>', 'stop after this many seconds (default: at Ctrl-C)')
    .option('--out <file>', 'the pcap file to write (default: trace-<user or number>-<time>.pcap)')
    .requiredOption('-c, --config <file>', "the box's config file")
    .action(async (opts: TraceOptions) => {
      const match = matchOf(opts);
      const durationS = opts.duration === undefined ? undefined : parseWholeNumber('--duration', opts.duration, 1, 86_400);
      const target = loadCliTarget(opts.config);
      if (target.kind === 'hub') throw new CliError('outpost trace needs a box\'s config: the hub handles no SIP');
      const runtime = readRuntimeInfo(target.dataDir);
      if (!runtime) throw new NotRunningError(`node ${target.nodeId} is not running (start it with: outpost node --config ${opts.config})`);
      const what = 'user' in match ? `user ${match.user}` : `number ${match.number}`;
      const file = opts.out ?? `trace-${('user' in match ? match.user : match.number).replace(/[^A-Za-z0-9+_-]/g, '_')}-${stamp(new Date())}.pcap`;
      const { socket, rest } = await openTrace(join(target.dataDir, TRACE_SOCKET), { op: 'trace', match }, `node ${target.nodeId} (pid ${runtime.pid})`);
      const progress = progressLine();
      warn(`tracing ${what} on node ${target.nodeId} into ${file}${durationS ? ` for ${durationS} s` : ''} (Ctrl-C stops)`);
      const result = await capture(socket, rest, file, durationS, progress.update);
      progress.done();
      if (result.nodeClosed) warn(`node ${target.nodeId} closed the trace (it stopped?)`);
      if (result.lost > 0) warn(`${result.lost} messages were lost: the trace could not keep up`);
      out(`${result.count} SIP message${result.count === 1 ? '' : 's'} written to ${file}`);
    });
}

function matchOf(opts: TraceOptions): TraceMatch {
  if ((opts.user === undefined) === (opts.number === undefined)) throw new CliError('give either --user EXT or --number DIGITS');
  if (opts.user !== undefined) {
    if (opts.user === '') throw new CliError('invalid --user "": give an extension');
    return { user: opts.user };
  }
  if (!/\d/.test(opts.number!)) throw new CliError(`invalid --number "${opts.number}": give digits`);
  return { number: opts.number! };
}

/** Connects, sends the request and reads the node's answer; a CliError says why not. */
function openTrace(path: string, request: TraceRequest, node: string): Promise<{ socket: Socket; rest: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = '';
    socket.setEncoding('utf8');
    const fail = (message: string) => {
      socket.destroy();
      reject(new CliError(message));
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EACCES' ? 'permission denied: run outpost trace as the user the node runs as' : err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'nothing listens there' : err.message;
      fail(`${node} does not answer on ${path}: ${why}`);
    });
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    const onData = (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // capture() listens from here on
      let answer: TraceAnswer;
      try {
        answer = JSON.parse(buffered.slice(0, nl)) as TraceAnswer;
      } catch {
        return fail(`${node} answered the trace request with something else than JSON`);
      }
      if (!answer.ok) return fail(`${node} refused the trace: ${answer.error}`);
      socket.pause();
      socket.removeAllListeners('close');
      // Lines already read past the answer: the first records.
      resolve({ socket, rest: buffered.slice(nl + 1) });
    };
    socket.on('data', onData);
    socket.once('close', () => fail(`${node} closed its trace socket without answering`));
  });
}

interface CaptureResult {
  count: number;
  lost: number;
  nodeClosed: boolean;
}

/** Writes records to `file` until the duration, a stop signal or the node's end. */
function capture(socket: Socket, rest: string, file: string, durationS: number | undefined, onCount: (n: number) => void): Promise<CaptureResult> {
  let fd: number;
  try {
    fd = openSync(file, 'w', 0o600);
    writeSync(fd, pcapFileHeader());
  } catch (err) {
    socket.destroy();
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
  const result: CaptureResult = { count: 0, lost: 0, nodeClosed: false };
  return new Promise((resolve) => {
    let buffered = rest;
    let finished = false;
    const finish = (nodeClosed: boolean) => {
      if (finished) return;
      finished = true;
      result.nodeClosed = nodeClosed;
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      socket.removeAllListeners('close');
      socket.destroy();
      closeSync(fd);
      resolve(result);
    };
    const onSignal = () => finish(false);
    const timer = durationS === undefined ? undefined : setTimeout(() => finish(false), durationS * 1000);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const onData = (chunk: string) => {
      if (finished) return;
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let r: TraceRecord;
        try {
          r = JSON.parse(line) as TraceRecord;
        } catch {
          continue;
        }
        writeSync(fd, pcapRecord({ timeMicros: r.t, srcIp: r.src, srcPort: r.srcPort, dstIp: r.dst, dstPort: r.dstPort, payload: Buffer.from(r.data, 'base64') }));
        result.count++;
        result.lost += r.lost ?? 0;
        onCount(result.count);
      }
    };
    socket.on('data', onData);
    onData('');
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.resume();
  });
}

/** The "captured N" line on a terminal's stderr, redrawn at most five times a second; nothing elsewhere. */
function progressLine(): { update: (n: number) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = -1;
  let count = 0;
  const draw = () => {
    process.stderr.write(`\rcaptured ${count} SIP message${count === 1 ? '' : 's'}`);
    shown = count;
  };
  return {
    update(n) {
      count = n;
      if (!tty) return;
      const now = Date.now();
      if (now - last >= 200) {
        last = now;
        draw();
      }
    },
    done() {
      if (!tty) return;
      if (shown !== count) draw();
      process.stderr.write('\n');
    },
  };
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
