/**
 * Downloads an update bundle from the hub over HTTPS with mutual TLS (the box's node
 * certificate and key; the hub's certificate must chain to the fleet CA), streaming it to a file
 * while hashing it. The checksum is compared by the core (update-core.ts), not here.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Credentials } from '../trust/credentials.ts';
import { UpdateError } from './errors.ts';

export interface Downloaded {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** GETs `url` into `dest` (through `dest.part`); rejects with UpdateError on any failure. */
export async function downloadBundle(url: string, dest: string, tls: Credentials, timeoutMs: number): Promise<Downloaded> {
  const target = new URL(url);
  if (target.protocol !== 'https:') throw new UpdateError('update.download', `bundle URL ${url} is not https`);
  const part = `${dest}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = https.get(target, { key: tls.key, cert: tls.cert, ca: tls.ca, timeout: timeoutMs }, resolve);
      req.on('timeout', () => req.destroy(new UpdateError('update.download', `no answer from ${target.origin} within ${timeoutMs / 1000} s`)));
      req.on('error', reject);
    });
    if (res.statusCode !== 200) {
      res.resume();
      throw new UpdateError('update.download', `the hub answered ${res.statusCode} for ${target.pathname}`);
    }
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(res, tap, createWriteStream(part, { mode: 0o600 }));
    renameSync(part, dest);
    return { file: dest, sha256: hash.digest('hex'), bytes };
  } catch (err) {
    rmSync(part, { force: true });
    if (err instanceof UpdateError) throw err;
    throw new UpdateError('update.download', `downloading ${url}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}
