/**
 * Payload type translation between two legs (RFC 3551 §3, RFC 8866 a=rtpmap): dynamic payload
 * type numbers are chosen per SDP, so the same encoding can be 101 on one leg and 96 on the
 * other (typically telephone-event/8000, RFC 4733). The map sends each number of the source leg
 * to the number the destination leg uses for the same encoding name.
 */

/** `PCMU/8000`, `pcmu/8000/1` → `pcmu/8000`: case-insensitive, one channel is the default. */
export function normalizeEncoding(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('/1') && lower.split('/').length === 3 ? lower.slice(0, -2) : lower;
}

/**
 * A 128-entry table from source payload type to destination payload type, or null when no
 * number changes (the relay then leaves the byte alone). Encodings the destination does not list
 * keep their number (no transcoding here).
 */
export function buildPayloadTypeMap(from: ReadonlyMap<number, string>, to: ReadonlyMap<number, string>): Uint8Array | null {
  const byName = new Map<string, number>();
  for (const [pt, name] of to) {
    const key = normalizeEncoding(name);
    // The first number the destination lists for an encoding wins.
    if (!byName.has(key)) byName.set(key, pt);
  }
  let map: Uint8Array | null = null;
  for (const [pt, name] of from) {
    if (!isPayloadType(pt)) continue;
    const target = byName.get(normalizeEncoding(name));
    if (target === undefined || target === pt || !isPayloadType(target)) continue;
    map ??= identityMap();
    map[pt] = target;
  }
  return map;
}

function identityMap(): Uint8Array {
  const map = new Uint8Array(128);
  for (let i = 0; i < 128; i++) map[i] = i;
  return map;
}

function isPayloadType(pt: number): boolean {
  return Number.isInteger(pt) && pt >= 0 && pt <= 127;
}
