/**
 * A headless baresip 1.0 (Debian) softphone for call tests: one account registered to the box
 * with digest auth, audio from a WAV file (aufile), what it receives written to WAV by the
 * sndfile filter (dump-<time>-dec.wav in the recordings directory), answered automatically when
 * asked (account answermode=auto), driven over the ctrl_tcp module (JSON in netstrings).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freeTcpPort } from '../../bench/lib/procs.ts';
import { LOCALHOST } from './calls.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export interface BaresipOptions {
  /** Directory for its config, accounts and recordings (created). */
  home: string;
  ext: string;
  password: string;
  domain: string;
  /** The box's UDP SIP address (used as the outbound proxy). */
  proxy: { host: string; port: number };
  /** WAV played as the microphone: 16-bit at the codec's rate and channels (G.711: 8 kHz mono; opus: 48 kHz stereo). */
  sourceWav: string;
  /** Audio codec modules to load, which are the only codecs it offers and accepts (default g711). */
  codecs?: Array<'g711' | 'g722' | 'opus'>;
  autoAnswer: boolean;
  /** RTP port range `lo-hi`. */
  rtpPorts: [number, number];
  /** baresip -t: it quits by itself after this many seconds (a bound if the test dies). */
  lifetimeS: number;
}

export interface Baresip {
  proc: ChildProcess;
  recordings: string;
  output(): string;
  /** Sends a ctrl_tcp command and resolves with its response object. */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }>;
  /** Paths of the decoded-audio recordings (what it received), oldest first. */
  received(): string[];
  /** Seconds in the newest recording so far (16-bit at `rate` with `channels`), from its size. */
  recordedSeconds(rate: number, channels?: number): number;
  kill(): void;
}

export async function startBaresip(o: BaresipOptions): Promise<Baresip> {
  mkdirSync(o.home, { recursive: true });
  const recordings = join(o.home, 'recordings');
  mkdirSync(recordings, { recursive: true });
  const ctrlPort = await freeTcpPort();
  writeFileSync(
    join(o.home, 'accounts'),
    `<sip:${o.ext}@${o.domain}>;auth_pass=${o.password};outbound="sip:${o.proxy.host}:${o.proxy.port}";regint=300${o.autoAnswer ? ';answermode=auto' : ''}\n`,
  );
  writeFileSync(
    join(o.home, 'config'),
    [
      `sip_listen ${LOCALHOST}:0`,
      'module_path /usr/lib/baresip/modules',
      ...(o.codecs ?? ['g711']).map((c) => `module ${c}.so`),
      'module aufile.so',
      'module aubridge.so',
      'module sndfile.so',
      `snd_path ${recordings}`,
      `audio_source aufile,${o.sourceWav}`,
      // A sink that plays nowhere; the sndfile filter has recorded the audio before it.
      'audio_player aubridge,nil',
      `rtp_ports ${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen ${LOCALHOST}:${ctrlPort}`,
      '',
    ].join('\n'),
  );
  let out = '';
  const proc = spawn('baresip', ['-f', o.home, '-t', String(o.lifetimeS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('latin1')));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString('latin1')));
  let token = 0;
  const received = () => readdirSync(recordings).filter((f) => f.endsWith('-dec.wav')).sort().map((f) => join(recordings, f));
  return {
    proc,
    recordings,
    output: () => out,
    command(command, params = '') {
      const tok = `t${++token}`;
      return new Promise((resolve, reject) => {
        const sock = connect(ctrlPort, LOCALHOST, () => {
          const json = JSON.stringify({ command, params, token: tok });
          sock.write(`${Buffer.byteLength(json)}:${json},`);
        });
        let buf = Buffer.alloc(0);
        const timer = setTimeout(() => {
          sock.destroy();
          reject(new HarnessError(`baresip ctrl_tcp: no response to "${command}" within 5 s`));
        }, 5_000);
        sock.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        sock.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c]);
          // Netstrings: <length>:<payload>, — events and the response may share the stream.
          for (;;) {
            const colon = buf.indexOf(0x3a);
            if (colon < 0) return;
            const len = Number(buf.toString('latin1', 0, colon));
            if (buf.length < colon + 1 + len + 1) return;
            const msg = JSON.parse(buf.toString('utf8', colon + 1, colon + 1 + len)) as { response?: boolean; ok?: boolean; data?: string; token?: string };
            buf = buf.subarray(colon + 1 + len + 1);
            if (msg.response && msg.token === tok) {
              clearTimeout(timer);
              sock.end();
              resolve({ ok: msg.ok === true, data: msg.data ?? '' });
              return;
            }
          }
        });
      });
    },
    received,
    recordedSeconds(rate, channels = 1) {
      const file = received().at(-1);
      return file === undefined ? 0 : Math.max(0, statSync(file).size - 44) / (2 * rate * channels);
    },
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}
