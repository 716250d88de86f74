/**
 * Hostile and broken bodies: random bytes and random mutations of the real fixtures. parseSdp
 * must answer every one with a SessionDescription or an SdpError (never throw), the reason must
 * be one of the fixed phrases, and whatever parses must survive audioOf, checkAnswer and a
 * rewrite whose output parses again. Seeded, so a failure reproduces.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkAnswer } from './answer-check.ts';
import { SdpError } from './errors.ts';
import { audioOf } from './media-description.ts';
import { OriginState } from './origin-state.ts';
import { rewriteForRelay } from './rewrite-for-relay.ts';
import { parseSdp } from './session-description.ts';
import { FIXTURES, mustParse, sdpFixture } from './test-support.ts';

const REASONS = new Set([
  'SDP too large', 'Empty SDP', 'Bad v= line', 'Bad SDP line', 'Bad o= line', 'Bad c= line', 'Bad m= line', 'Missing c= line',
  'Bad a=rtcp line', 'Unreadable SDP', 'No audio stream', 'Secure RTP not supported', 'Unsupported audio transport',
  'Multicast not supported', 'Unsupported c= address', 'Port count not supported',
]);
const ALPHABET = 'vocsmta=0123456789 ./:-\r\nINPAVRTSFaudiovideortpmap';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(body: string, rand: () => number): string {
  const at = Math.floor(rand() * body.length);
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  switch (Math.floor(rand() * 6)) {
    case 0: return body.slice(0, at) + body.slice(at + 1 + Math.floor(rand() * 20));
    case 1: return body.slice(0, at) + Array.from({ length: 1 + Math.floor(rand() * 8) }, () => pick(ALPHABET)).join('') + body.slice(at);
    case 2: return body.slice(0, at);
    case 3: return body.slice(0, at) + pick('0123456789') + body.slice(at + 1);
    case 4: {
      const lines = body.split('\r\n');
      const i = Math.floor(rand() * lines.length);
      lines.splice(Math.floor(rand() * lines.length), 0, lines[i]!);
      return lines.join('\r\n');
    }
    default: {
      const lines = body.split('\r\n');
      lines.splice(Math.floor(rand() * lines.length), 1);
      return lines.join('\r\n');
    }
  }
}

function exercise(body: Buffer | string, label: string): void {
  let result;
  try {
    result = parseSdp(body);
  } catch (err) {
    assert.unreachable(`parseSdp threw on ${label}: ${String(err)}`);
    return;
  }
  if (result instanceof SdpError) {
    assert.ok(REASONS.has(result.reason), `unexpected reason "${result.reason}" for ${label}`);
    return;
  }
  audioOf(result);
  checkAnswer(result, result);
  const text = rewriteForRelay(result, { address: '198.51.100.1', rtpPort: 40000, rtcpPort: 40001 }, new OriginState({ sessionId: '1' }));
  const again = parseSdp(text);
  assert.not.instance(again, SdpError, `rewrite of ${label} does not parse again: ${again instanceof SdpError ? again.message : ''}\n${text}`);
}

const Fuzz = suite('parseSdp on hostile input');

Fuzz('random bytes', () => {
  const rand = rng(1);
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256)));
    exercise(i % 2 ? bytes : Buffer.concat([Buffer.from('v=0\r\n'), bytes]), `random #${i}`);
  }
});

Fuzz('random mutations of every fixture', () => {
  const rand = rng(2);
  for (const name of FIXTURES) {
    const original = sdpFixture(name).toString('latin1');
    for (let i = 0; i < 250; i++) {
      let body = original;
      const rounds = 1 + Math.floor(rand() * 3);
      for (let r = 0; r < rounds; r++) body = mutate(body, rand);
      exercise(body, `${name} mutation #${i}: ${JSON.stringify(body)}`);
    }
  }
});

Fuzz('the fixtures themselves', () => {
  for (const name of FIXTURES) exercise(sdpFixture(name), name);
  assert.ok(mustParse(sdpFixture('sipp-default')));
});

Fuzz.run();
