/**
 * The flash tool's command line, checked (docs/flash.md#the-command): pure, so each refusal is
 * a unit test. The claim file is the JSON `outpost enrol create --write` makes ({claim, hub,
 * site, expiresAt}); its values fill in what the command line leaves out.
 */
import { formatClaimCode, parseClaimCode } from '../agent/trust/claim-code.ts';
import { FlashError } from './errors.ts';

export interface RawOptions {
  image: string;
  target: string;
  site?: string;
  claim?: string;
  hub?: string;
  node?: string;
  yes?: boolean;
  qr?: boolean;
}

export interface ClaimFile {
  claim?: string;
  hub?: string;
  site?: string;
  expiresAt?: string;
}

export interface FlashOptions {
  image: string;
  compressed: boolean;
  target: string;
  site: string;
  /** `7KQ2-M9XD-4HRT`, normalised. */
  claim: string;
  /** Its first group: public, printed in the report and the QR code. */
  claimId: string;
  /** `https://host:port` of the hub's enrolment endpoint. */
  hub: string;
  /** The node id the box gets (a replacement for a dead box); absent: the box names itself. */
  node?: string;
  /** From the claim file, when given. */
  claimExpires?: Date;
  yes: boolean;
  qr: boolean;
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HUB = /^https:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export function checkOptions(raw: RawOptions, file?: ClaimFile): FlashOptions {
  const usage = (message: string) => new FlashError('flash.usage', message);
  const compressed = raw.image.endsWith('.img.zst');
  if (!compressed && !raw.image.endsWith('.img')) throw usage(`${raw.image}: the image must be a .img or .img.zst file`);

  const site = raw.site ?? file?.site;
  if (site === undefined) throw usage('give the site the box belongs to: --site SITE');
  if (!ID.test(site)) throw usage(`invalid site id "${site}": use 1-63 lowercase letters, digits or dashes`);
  if (raw.site !== undefined && file?.site !== undefined && file.site !== raw.site) {
    throw usage(`the claim file is for site ${file.site}, not ${raw.site}`);
  }
  if (raw.node !== undefined && !ID.test(raw.node)) throw usage(`invalid node id "${raw.node}": use 1-63 lowercase letters, digits or dashes`);

  const typed = raw.claim ?? file?.claim;
  if (typed === undefined) throw usage('give the claim code made at the hub: --claim CODE (outpost enrol create, or outpost node replace for a swap)');
  let claim: ReturnType<typeof parseClaimCode>;
  try {
    claim = parseClaimCode(typed);
  } catch (err) {
    throw usage((err as Error).message);
  }

  const hub = (raw.hub ?? file?.hub)?.replace(/\/$/, '');
  if (hub === undefined) throw usage("give the hub's enrolment address: --hub https://HOST:PORT");
  if (!HUB.test(hub) || Number(hub.slice(hub.lastIndexOf(':') + 1)) > 65535) throw usage(`invalid hub address "${hub}": must be https://HOST:PORT`);

  let claimExpires: Date | undefined;
  if (file?.expiresAt !== undefined) {
    claimExpires = new Date(file.expiresAt);
    if (Number.isNaN(claimExpires.getTime())) throw usage(`the claim file's expiresAt "${file.expiresAt}" is not a date`);
  }
  return {
    image: raw.image,
    compressed,
    target: raw.target,
    site,
    claim: formatClaimCode(claim),
    claimId: claim.id,
    hub,
    ...(raw.node !== undefined ? { node: raw.node } : {}),
    ...(claimExpires ? { claimExpires } : {}),
    yes: raw.yes === true,
    qr: raw.qr !== false,
  };
}

/** The claim file's JSON, checked for shape (not for content: checkOptions does that). */
export function parseClaimFile(text: string, path: string): ClaimFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new FlashError('flash.usage', `${path} is not a claim file (not JSON)`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const out: ClaimFile = {};
  for (const key of ['claim', 'hub', 'site', 'expiresAt'] as const) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== 'string') throw new FlashError('flash.usage', `${path}: "${key}" must be a string`);
    out[key] = o[key];
  }
  if (out.claim === undefined) throw new FlashError('flash.usage', `${path} is not a claim file (it has no "claim")`);
  return out;
}
