/**
 * Helpers for the call integration tests (test/integration/calls-*.test.ts): free ports probed
 * from the OS, users and injected bindings in the store, CDRs read through the CLI, and sipp
 * processes run in the background (a callee that must be up before the caller dials), and the
 * check that a call's CDR saw RTP both ways on both legs.
 */
import type { ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import type { CdrRecord } from '../../agent/store/cdrs.ts';
import { runCli, type NodeProcess } from '../../bench/lib/node-process.ts';
import { sippCounts, startSipp, type SippResult } from '../../bench/lib/sipp.ts';
export { udpPortBound } from '../../bench/lib/procs.ts';
import type { LegStats } from '../../agent/media/relay-types.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export const LOCALHOST = '127.0.0.1';
export const SIPP_SCENARIOS = join(import.meta.dirname, '../integration/sipp');

function bindUdp(port: number, host: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, host, () => resolve(s));
  });
}

/**
 * An even UDP port P such that P .. P+count-1 are all free on `host` right now (the OS picks P
 * from its ephemeral range; the sockets are closed before returning). sipp's media needs
 * P (RTP), P+1 (RTCP), P+2 (video RTP, which -rtp_echo binds too).
 */
export async function freeUdpPorts(count = 1, host = LOCALHOST): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = await bindUdp(0, host);
    if (!first) continue;
    const base = first.address().port;
    const held: Socket[] = [first];
    let ok = base % 2 === 0 && base + count - 1 <= 65535;
    for (let p = base + 1; ok && p < base + count; p++) {
      const s = await bindUdp(p, host);
      if (s) held.push(s);
      else ok = false;
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new HarnessError(`no ${count} consecutive free UDP ports found`);
}

/** `outpost.yaml` sip-section extras and top-level sections for a call test node. */
export function callNodeSections(opts: { portRange: [number, number]; rtpTimeout?: number; ringTimeout?: number; maxPerUser?: number }): string {
  const rtp = `rtp: { portRange: [${opts.portRange[0]}, ${opts.portRange[1]}]${opts.rtpTimeout ? `, timeout: ${opts.rtpTimeout}` : ''} }`;
  const calls = `calls: { maxPerUser: ${opts.maxPerUser ?? 100}${opts.ringTimeout ? `, ringTimeout: ${opts.ringTimeout}` : ''} }`;
  // sipp and baresip speak MD5 digest only; the flood guard must not throttle a load test.
  return `  auth: { algorithms: [MD5] }
  flood:
    rateLimit: { perSecond: 100000, burst: 100000 }
${rtp}
${calls}
`;
}

export const passwordOf = (ext: string) => `pw-${ext}`;

/** Creates users with password pw-<ext> (MD5 and SHA-256 HA1) through the Store API. */
export function addUsers(dataDir: string, domain: string, exts: string[]): void {
  const store = Store.open({ dataDir });
  try {
    for (const ext of exts) {
      const pw = passwordOf(ext);
      store.users.upsert({ ext, displayName: `User ${ext}`, realm: domain, site: 'branch-a', ha1Md5: computeHa1(ext, domain, pw, 'MD5'), ha1Sha256: computeHa1(ext, domain, pw, 'SHA-256') }, Date.now());
    }
  } finally {
    store.close();
  }
}

/**
 * A binding for `aor` pointing at a UA that does not register (a sipp UAS, a node-side callee),
 * owned by node a1 (writeNodeConfig's node id), valid for an hour. Replaces the aor's other
 * bindings so that a call never forks to a stale contact.
 */
export function injectBinding(dataDir: string, aor: string, port: number, host = LOCALHOST): void {
  const store = Store.open({ dataDir });
  try {
    store.registrations.removeAll(aor, 'a1');
    const now = Date.now();
    store.registrations.upsert({
      aor, contact: `sip:${aor}@${host}:${port}`, nodeId: 'a1', expiresAt: now + 3_600_000, q: null, callId: `inject-${aor}-${now}`, cseq: 1,
      path: '', userAgent: 'injected by test', received: `udp:${host}:${port}`, instanceId: '', regId: 0, updatedAt: now,
    });
  } finally {
    store.close();
  }
}

/** One leg's media counters as the CDR stores them (the relay's LegStats). */
export type LegMedia = LegStats;

export type Cdr = Omit<CdrRecord, 'media'> & { media: { a?: LegMedia; b?: LegMedia } };

/** `outpost cdr list --json` of the node's store. */
export async function listCdrs(node: NodeProcess): Promise<Cdr[]> {
  const res = await runCli(['cdr', 'list', '--json', '--since', '1d', '--config', node.configFile], node.dir);
  if (res.code !== 0) throw new HarnessError(`outpost cdr list failed (${res.code}): ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Cdr);
}

export const cdrSummary = (c: Cdr) => `${c.caller}->${c.callee} ${c.disposition} ${c.endedBy} ${JSON.stringify(c.media)}`;

/** Both legs of the CDR's call carried RTP each way, all from the latched sources. */
export function assertRelayedBothWays(c: Cdr, summary: (c: Cdr) => string = cdrSummary): void {
  const { a, b } = c.media;
  assert.ok(a && b, summary(c));
  assert.ok(a!.packetsIn > 0 && a!.packetsOut > 0, `caller leg both ways: ${summary(c)}`);
  assert.ok(b!.packetsIn > 0 && b!.packetsOut > 0, `callee leg both ways: ${summary(c)}`);
  assert.is(a!.unexpectedSource, 0, summary(c));
  assert.is(b!.unexpectedSource, 0, summary(c));
}

/** Checkpoints of calls in progress (the `dialogs` table), read through the Store API. */
export function checkpoints(dataDir: string): Array<{ callUuid: string; state: string; aCallId: string; caller: string; callee: string }> {
  const store = Store.open({ dataDir });
  try {
    return store.cdrs.checkpointsOf('a1');
  } finally {
    store.close();
  }
}

export interface SippProcess {
  proc: ChildProcess;
  /** Resolves when sipp exits. */
  done: Promise<SippResult>;
  /** -message_file: every message sent and received (sipp -trace_msg). */
  messageFile: string;
  /** -error_file: unexpected messages and the reasons calls failed. */
  errorFile: string;
  messages(): string;
  errors(): string;
  kill(): void;
}

export interface SippSpawn {
  scenario: string;
  dir: string;
  /** A unique tag used in the names of the trace files. */
  name: string;
  /** SIP port sipp binds. */
  port: number;
  /** Media port (-mp); P..P+3 should be free. */
  mediaPort: number;
  /** UAC: where to send; a UAS leaves it out. */
  target?: { host: string; port: number };
  /** UAC: injection rows (-inf, SEQUENTIAL). */
  injection?: string[];
  calls: number;
  rate?: number;
  maxConcurrent?: number;
  rtpEcho?: boolean;
  /** Global bound: sipp stops (and fails) after this many seconds. */
  timeoutS: number;
  extra?: string[];
  /** The address sipp binds for SIP and media (default 127.0.0.1). */
  host?: string;
  /** A command prefix that execs sipp elsewhere, e.g. `ip netns exec NS` (bench/lib/netns.ts). */
  prefix?: string[];
}

/** Starts sipp without waiting for it (a UAS must listen before the UAC dials). */
export function spawnSipp(run: SippSpawn): SippProcess {
  const messageFile = join(run.dir, `${run.name}-messages.log`);
  const errorFile = join(run.dir, `${run.name}-errors.log`);
  const args: string[] = [];
  if (run.target) args.push(`${run.target.host}:${run.target.port}`);
  const host = run.host ?? LOCALHOST;
  args.push('-sf', run.scenario, '-i', host, '-p', String(run.port), '-mi', host, '-mp', String(run.mediaPort));
  if (run.injection) {
    const inf = join(run.dir, `${run.name}-inject.csv`);
    writeFileSync(inf, `SEQUENTIAL\n${run.injection.join('\n')}\n`);
    args.push('-inf', inf);
  }
  args.push('-m', String(run.calls), '-l', String(run.maxConcurrent ?? 10));
  if (run.rate !== undefined) args.push('-r', String(run.rate));
  if (run.rtpEcho) args.push('-rtp_echo');
  args.push('-timeout', `${run.timeoutS}s`, '-timeout_error', '-trace_msg', '-message_file', messageFile, '-trace_err', '-error_file', errorFile, ...(run.extra ?? []));
  const sipp = startSipp({ args, cwd: run.dir, ...(run.prefix ? { prefix: run.prefix } : {}) });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'latin1') : '');
  return {
    proc: sipp.proc,
    done: sipp.done,
    messageFile,
    errorFile,
    messages: () => read(messageFile),
    errors: () => read(errorFile),
    kill: sipp.kill,
  };
}

/** A readable explanation of a sipp run for assertion messages. */
export function describeSipp(name: string, sipp: SippProcess, res: SippResult): string {
  const counts = sippCounts(res.stdout);
  // sipp's last screen: per scenario step, messages sent/received, retransmissions, timeouts, unexpected.
  const last = res.stdout.lastIndexOf('Scenario Screen');
  const end = res.stdout.indexOf('Statistics Screen', Math.max(last, 0));
  const screen = last < 0 ? res.stdout.slice(-1500) : res.stdout.slice(last, end < 0 ? undefined : end);
  return `${name}: exit ${res.code}, successful ${counts.successful}, failed ${counts.failed}\n` +
    `stderr: ${res.stderr.slice(-600)}\nerrors: ${sipp.errors().slice(-1500)}\nscreen: ${screen.slice(-2500)}\nlast messages: ${sipp.messages().slice(-2500)}`;
}

/** SIP messages from a sipp -trace_msg file that sipp received, as text (first line first). */
export function receivedMessages(log: string): string[] {
  // Each entry starts with a line like "----------------------------------------------- 2026-..."
  // followed by "UDP message received [N] bytes :" and the message.
  const out: string[] = [];
  for (const block of log.split(/^-{20,}.*$/m)) {
    const m = /message received \[\d+\] bytes :\s*\n\n?([\s\S]*)$/.exec(block);
    if (m) out.push(m[1]!.replace(/\n+$/, '\n'));
  }
  return out;
}

/** The first status code received among a sipp trace's responses to INVITE that is final (>= 200) and not 407. */
export function finalInviteStatus(log: string): number | undefined {
  for (const msg of receivedMessages(log)) {
    const m = /^SIP\/2\.0 (\d{3})/.exec(msg);
    if (!m) continue;
    const status = Number(m[1]);
    if (status >= 200 && status !== 407 && /^CSeq:\s*\d+\s+INVITE/im.test(msg)) return status;
  }
  return undefined;
}

/** The `name` header (first) of a SIP message text, or undefined. */
export function headerOf(msg: string, name: string): string | undefined {
  const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im').exec(msg);
  return m ? m[1]!.trim() : undefined;
}
