/**
 * The report at the end of a flash (docs/flash.md#the-report) and the site record: a small JSON
 * the technician scans into the site's records as a QR code. The record holds the claim's id,
 * never the code (the code is a secret until the box has used it).
 */
import QRCode from 'qrcode';
import type { FlashResult } from './flash.ts';
import type { FlashOptions } from './options.ts';
import { formatSeconds } from './progress.ts';
import { formatBytes } from './target-check.ts';

export function siteRecord(o: FlashOptions, r: FlashResult, at: Date): string {
  return JSON.stringify({
    outpost: 'flash',
    site: o.site,
    node: o.node ?? null,
    claimId: o.claimId,
    hub: o.hub,
    image: r.sha256.slice(0, 16),
    flashed: at.toISOString().replace(/\.\d+Z$/, 'Z'),
  });
}

export function reportLines(o: FlashOptions, r: FlashResult, now: Date): string[] {
  const sums = r.image.expectedRaw !== undefined || r.image.expectedFile !== undefined ? 'matches SHA256SUMS' : 'no SHA256SUMS beside the image';
  const expiry = o.claimExpires === undefined ? 'expiry not known here (see outpost enrol list at the hub)' : `expires ${o.claimExpires.toISOString()}${o.claimExpires.getTime() < now.getTime() ? ' (ALREADY EXPIRED: make a new code)' : ''}`;
  return [
    `flashed ${r.target.path} in ${formatSeconds(r.seconds)}`,
    `  image      ${formatBytes(r.bytes)}${r.image.version ? `, ${r.image.version}` : ''}; sha256 ${r.sha256} (${sums})`,
    `  written    ${r.writeMBps.toFixed(1)} MB/s; read back ${r.readMBps.toFixed(1)} MB/s: identical`,
    `  first boot ${r.firstboot}`,
    `  site       ${o.site}`,
    `  node       ${o.node ?? '(the box names itself: box- and the end of its MAC)'}${o.node ? ' (replacement: enrols under this id)' : ''}`,
    `  hub        ${o.hub}`,
    `  claim      id ${o.claimId}, ${expiry}`,
  ];
}

/** The QR code of the site record, as lines of a UTF-8 terminal. */
export async function qrLines(record: string): Promise<string[]> {
  return (await QRCode.toString(record, { type: 'utf8' })).split('\n').filter((l) => l.trim() !== '');
}
