/**
 * The codec names the native codec library knows (docs/codecs.md), spelled exactly as it spells
 * them, and the parsing of a preference list of them: `rtp.codecs` in the config, a user's
 * `codecs` column in the store and `--codecs` on the command line all use these.
 */
export const CODEC_NAMES = ['PCMA', 'PCMU', 'G722', 'opus', 'G729'] as const;

export type CodecName = (typeof CODEC_NAMES)[number];

const BY_LOWER = new Map<string, CodecName>(CODEC_NAMES.map((n) => [n.toLowerCase(), n]));

/** The exact spelling of a codec name given in any case ('pcma', 'OPUS'); undefined if unknown. */
export function normaliseCodecName(s: string): CodecName | undefined {
  return BY_LOWER.get(s.trim().toLowerCase());
}

/**
 * A comma-separated preference list ("opus, pcma"), case-insensitive, spaces around names
 * ignored: the codecs, or a one-line problem for an empty list, an empty or unknown entry, or a
 * codec named twice (the caller turns it into its layer's error).
 */
export function parseCodecList(text: string): { codecs: CodecName[] } | { problem: string } {
  if (text.trim() === '') return { problem: `empty codec list: name at least one of ${CODEC_NAMES.join(', ')}` };
  const codecs: CodecName[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') return { problem: `empty entry in codec list ${JSON.stringify(text)}` };
    const name = normaliseCodecName(entry);
    if (name === undefined) return { problem: `unknown codec ${JSON.stringify(entry)}: use ${CODEC_NAMES.join(', ')}` };
    if (codecs.includes(name)) return { problem: `codec ${name} is listed twice` };
    codecs.push(name);
  }
  return { codecs };
}
