/** A one-shot SIP OPTIONS over UDP, used to wait until a server answers. */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { optionsRequest } from '../../agent/lib/options-request.ts';
import { HarnessError } from './harness-error.ts';

/** Sends one OPTIONS and resolves with the response's status line, or undefined after `waitMs`. */
export function sipOptions(target: { host: string; port: number }, domain: string, waitMs = 500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    let timer: NodeJS.Timeout | undefined;
    const done = (value: string | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(value);
    };
    sock.on('error', () => done(undefined));
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      const id = randomBytes(8).toString('hex');
      const msg = optionsRequest(domain, port, id, 'probe');
      timer = setTimeout(() => done(undefined), waitMs);
      sock.on('message', (data) => done(data.toString('latin1').split('\r\n')[0]));
      sock.send(msg, target.port, target.host);
    });
  });
}

/** Polls with OPTIONS until any response arrives or `timeoutMs` passes. */
export async function waitForSip(target: { host: string; port: number }, domain: string, timeoutMs: number, isDead?: () => string | undefined): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = isDead?.();
    if (dead) throw new HarnessError(dead);
    const status = await sipOptions(target, domain, 300);
    if (status) return status;
    if (Date.now() > deadline) throw new HarnessError(`no SIP answer from ${target.host}:${target.port} within ${timeoutMs} ms`);
  }
}
