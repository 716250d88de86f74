/**
 * Option tags in Supported, Require, Proxy-Require and Unsupported (RFC 3261 §19.2, §20.32,
 * §20.37). The parser splits these comma lists into one entry per tag, but a message built by
 * hand may hold `100rel, timer` in one entry, so entries are split again here. Tags compare
 * case-insensitively, as the request dispatcher's 420 check does.
 */
import type { SipHeaders } from '../message/sip-message.ts';

/** Every option tag of the header, lower-cased, in order. */
export function optionTags(headers: SipHeaders, header: string): string[] {
  const out: string[] = [];
  for (const entry of headers.getAll(header)) {
    for (const tag of entry.split(',')) {
      const t = tag.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** True when the header lists `tag`. */
export function hasOptionTag(headers: SipHeaders, header: string, tag: string): boolean {
  return optionTags(headers, header).includes(tag.toLowerCase());
}
