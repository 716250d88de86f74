/**
 * Helpers for the call integration tests (test/integration/calls-*.test.ts): free ports probed
 * from the OS, users and injected bindings in the store (bench/lib), CDRs read through the CLI,
 * sipp processes run in the background (bench/lib/sipp.ts: a callee that must be up before the
 * caller dials), and the check that a call's CDR saw RTP both ways on both legs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import type { CdrRecord } from '../../agent/store/cdrs.ts';
import { runCli, type NodeProcess } from '../../bench/lib/node-process.ts';
import { sippCounts, type SippProcess, type SippResult } from '../../bench/lib/sipp.ts';
// The pieces the benches share live in bench/lib; the call tests import them from here too.
export { freeUdpPorts, udpPortBound } from '../../bench/lib/procs.ts';
export { spawnSipp, SIPP_SCENARIOS, type SippProcess, type SippSpawn } from '../../bench/lib/sipp.ts';
export { injectBinding } from '../../bench/lib/bindings.ts';
import type { LegStats } from '../../agent/media/relay-types.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export const LOCALHOST = '127.0.0.1';

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
