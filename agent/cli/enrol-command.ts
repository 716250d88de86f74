/**
 * `outpost enrol create|list|revoke` (at the hub, with its config) and `outpost enrol join` (on a
 * box, with its config): claim codes and the enrolment of a box with the hub's CA
 * (docs/cli/enrol.md, docs/enrolment.md). The work is in agent/trust/; this file reads options
 * and prints.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import QRCode from 'qrcode';
import { loadAnyConfig, loadConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { ensureDataDir } from '../store/data-dir.ts';
import { NodeKey } from '../sync/node-key.ts';
import { ClaimBook, createClaim } from '../trust/claim-book.ts';
import { formatClaimCode, parseClaimCode, parseClaimId } from '../trust/claim-code.ts';
import { claimState, parseTtl } from '../trust/claim-rules.ts';
import { credentialPaths } from '../trust/credentials.ts';
import { joinHub, type Joined } from '../trust/enrol-client.ts';
import { shortFingerprint } from '../trust/identity.ts';
import { CliError } from './cli-error.ts';
import { readRuntimeInfo } from './runtime-file.ts';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function hubTarget(file: string): { dataDir: string; hubId: string } {
  const any = loadAnyConfig(file);
  if (any.kind !== 'hub') throw new CliError(`claim codes are made at the hub: run this command with the hub's config, not ${file}`);
  return { dataDir: any.config.dataDir, hubId: any.config.id };
}

export function registerEnrolCommands(program: Command, out: (line: string) => void): void {
  const enrol = program.command('enrol').description('claim codes at the hub, and the enrolment of a box with the hub\'s CA');

  enrol
    .command('create')
    .description('make a one-time claim code a box enrols with (run with the hub\'s config)')
    .option('--site <site>', 'the site the box will belong to (required for a box)')
    .option('--node <id>', 'the node id the box must have (default: the box names itself)')
    .option('--admin <name>', 'a claim for an admin named NAME instead of a box (outpost admin login)')
    .option('--ttl <ttl>', 'how long the code is valid: 30m, 24h, 7d (1 minute to 30 days)', '24h')
    .option('--no-qr', 'do not print the code as a QR code')
    .option('--write <file>', 'also write the code and the hub\'s enrolment address to FILE (JSON, mode 0600) for `enrol join --claim-file`')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action(async (opts: { site?: string; node?: string; admin?: string; ttl: string; qr: boolean; write?: string; config: string }) => {
      if (opts.admin !== undefined) return createAdminClaim(opts.admin, opts, out);
      if (opts.site === undefined) throw new CliError('give the site the box will belong to: --site SITE (or --admin NAME for an admin)');
      const site = opts.site;
      if (!ID.test(site)) throw new CliError(`invalid site id "${opts.site}": use 1-63 lowercase letters, digits or dashes`);
      if (opts.node !== undefined && !ID.test(opts.node)) throw new CliError(`invalid node id "${opts.node}": use 1-63 lowercase letters, digits or dashes`);
      const ttlMs = parseTtl(opts.ttl);
      const hub = hubTarget(opts.config);
      if (opts.node === hub.hubId) throw new CliError(`node id ${opts.node} is the hub's own`);
      const writeTo = opts.write === undefined ? undefined : resolve(opts.write);
      if (writeTo !== undefined && existsSync(writeTo)) throw new CliError(`${writeTo} exists; refusing to overwrite it`);
      ensureDataDir(hub.dataDir, false);
      const { code, claim } = createClaim(new ClaimBook(hub.dataDir), { site, nodeId: opts.node, ttlMs, now: Date.now() });
      const text = formatClaimCode(code);
      out(`claim code ${text} (id ${claim.id}) for site ${claim.site}, ${claim.nodeId ? `box ${claim.nodeId}` : 'any new box id'}`);
      out(`expires ${new Date(claim.expiresAt).toISOString()} (in ${opts.ttl}); it enrols one box`);
      if (opts.qr) for (const line of (await QRCode.toString(text, { type: 'utf8' })).split('\n')) if (line.trim() !== '') out(line);
      const running = readRuntimeInfo(hub.dataDir)?.enrol;
      out(`on the box: outpost enrol join --hub ${running ?? 'https://HUB:PORT'} --claim ${text} --config BOX.yaml`);
      if (writeTo !== undefined) {
        const file = writeTo;
        writeFileSync(file, `${JSON.stringify({ ...(running ? { hub: running } : {}), claim: text, site: claim.site, expiresAt: new Date(claim.expiresAt).toISOString() })}\n`, { mode: 0o600, flag: 'wx' });
        out(`wrote the claim to ${file} (mode 0600)${running ? '' : '; the hub does not run, so it holds no hub address'}`);
      }
    });

  enrol
    .command('list')
    .description('list claim codes and their state (run with the hub\'s config)')
    .option('--json', 'print JSON')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((opts: { json?: boolean; config: string }) => {
      const hub = hubTarget(opts.config);
      const now = Date.now();
      const rows = new ClaimBook(hub.dataDir).list().map(({ claim, marks }) => ({
        id: claim.id,
        site: claim.site,
        node: claim.nodeId ?? null,
        ...(claim.role === 'admin' ? { role: 'admin' } : {}),
        state: claimState(claim, marks, now),
        expiresAt: new Date(claim.expiresAt).toISOString(),
        ...(marks.used ? { usedBy: marks.used.nodeId, usedAt: new Date(marks.used.at).toISOString(), usedFrom: marks.used.from } : {}),
      }));
      if (opts.json) return out(JSON.stringify(rows));
      if (rows.length === 0) return out('no claim codes');
      out(`${'ID'.padEnd(6)}${'SITE'.padEnd(16)}${'NODE'.padEnd(16)}${'STATE'.padEnd(9)}EXPIRES`);
      for (const r of rows) {
        const used = r.usedBy ? `  (${r.role === 'admin' ? 'admin' : 'box'} ${r.usedBy} at ${r.usedAt})` : '';
        out(`${r.id.padEnd(6)}${(r.role === 'admin' ? '(admin)' : r.site).padEnd(16)}${(r.node ?? '-').padEnd(16)}${r.state.padEnd(9)}${r.expiresAt}${used}`);
      }
    });

  enrol
    .command('revoke <id>')
    .description('revoke a claim code that was not used yet: the first group of the code (run with the hub\'s config)')
    .requiredOption('-c, --config <file>', "the hub's config file")
    .action((typed: string, opts: { config: string }) => {
      const id = parseClaimId(typed.split('-')[0]!);
      const hub = hubTarget(opts.config);
      const book = new ClaimBook(hub.dataDir);
      const claim = book.get(id);
      if (!claim) throw new CliError(`no claim code ${id} (see outpost enrol list)`);
      const used = book.marks(id).used;
      if (used) throw new CliError(`claim code ${id} was already used by box ${used.nodeId}; revoking it changes nothing`);
      if (!book.markRevoked(id, Date.now())) throw new CliError(`claim code ${id} is already revoked`);
      out(`revoked claim code ${id} (site ${claim.site}); a box can no longer enrol with it`);
    });

  enrol
    .command('join')
    .description("enrol this box with the hub's CA: get its certificate with a claim code (run with the box's config)")
    .option('--hub <url>', 'the hub\'s enrolment endpoint, https://host:port (default: enrol.hub of the config)')
    .option('--claim <code>', 'the claim code (default: enrol.claim of the config)')
    .option('--claim-file <file>', 'read the code (and the hub\'s address) from a file written by `enrol create --write`')
    .requiredOption('-c, --config <file>', "the box's config file")
    .action(async (opts: { hub?: string; claim?: string; claimFile?: string; config: string }) => {
      const config = loadConfig(opts.config);
      const file = opts.claimFile !== undefined ? readClaimFile(opts.claimFile) : undefined;
      const hubUrl = opts.hub ?? file?.hub ?? config.enrol?.hub;
      const claim = opts.claim ?? file?.claim ?? config.enrol?.claim;
      if (hubUrl === undefined) throw new CliError('give the hub\'s enrolment address: --hub https://host:port (or enrol.hub in the config)');
      if (claim === undefined) throw new CliError('give the claim code made at the hub: --claim CODE (or enrol.claim in the config)');
      const joined = await enrolBox(config, hubUrl, claim);
      for (const line of describeJoined(config, joined)) out(line);
    });
}

/** `enrol create --admin NAME`: a claim that certifies an admin (agent/trust/admin-enrolment.ts). */
function createAdminClaim(name: string, opts: { site?: string; node?: string; ttl: string; write?: string; config: string }, out: (line: string) => void): void {
  if (opts.site !== undefined || opts.node !== undefined) throw new CliError('--admin makes a claim for an admin: it takes no --site or --node');
  if (!ID.test(name)) throw new CliError(`invalid admin name "${name}": use 1-63 lowercase letters, digits or dashes`);
  const ttlMs = parseTtl(opts.ttl);
  const hub = hubTarget(opts.config);
  if (name === hub.hubId) throw new CliError(`${name} is the hub's own id`);
  ensureDataDir(hub.dataDir, false);
  const { code, claim } = createClaim(new ClaimBook(hub.dataDir), { site: '', nodeId: name, role: 'admin', ttlMs, now: Date.now() });
  out(`claim code ${formatClaimCode(code)} (id ${claim.id}) for admin ${name}`);
  out(`expires ${new Date(claim.expiresAt).toISOString()} (in ${opts.ttl}); it certifies one admin`);
  const running = readRuntimeInfo(hub.dataDir)?.enrol;
  out(`where the admin works: outpost admin login --hub ${running ?? 'https://HUB:PORT'} --claim ${formatClaimCode(code)}`);
  if (opts.write !== undefined) {
    const file = resolve(opts.write);
    if (existsSync(file)) throw new CliError(`${file} exists; refusing to overwrite it`);
    writeFileSync(file, `${JSON.stringify({ ...(running ? { hub: running } : {}), claim: formatClaimCode(code), admin: name, expiresAt: new Date(claim.expiresAt).toISOString() })}\n`, { mode: 0o600, flag: 'wx' });
    out(`wrote the claim to ${file} (mode 0600)`);
  }
}

/** A claim file of `enrol create --write`: `{"hub": "https://…", "claim": "…"}`. */
function readClaimFile(path: string): { hub?: string; claim?: string } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read the claim file ${resolve(path)}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  const v = value as { hub?: unknown; claim?: unknown } | null;
  if (typeof v?.claim !== 'string' || (v.hub !== undefined && typeof v.hub !== 'string')) throw new CliError(`${resolve(path)} is not a claim file (it needs "claim" and may have "hub")`);
  return { claim: v.claim, ...(typeof v.hub === 'string' ? { hub: v.hub } : {}) };
}

/** Enrols the box of `config` (used by `enrol join` and by `outpost node` at the first start). */
export async function enrolBox(config: Config, hubUrl: string, claim: string, logger?: Logger): Promise<Joined> {
  const code = parseClaimCode(claim);
  ensureDataDir(config.dataDir, false);
  const nodeKey = NodeKey.loadOrCreate(config.dataDir);
  const joined = await joinHub({ hubUrl, code, nodeId: config.node.id, site: config.node.site, dataDir: config.dataDir, nodeKey });
  logger?.info({ node: joined.certificate.nodeId, site: joined.certificate.site, hub: hubUrl, until: joined.certificate.notAfter.toISOString(), ca: shortFingerprint(joined.caFingerprint) }, 'enrolled');
  return joined;
}

function describeJoined(config: Config, j: Joined): string[] {
  const c = j.certificate;
  const files = credentialPaths(config.dataDir);
  return [
    `enrolled box ${c.nodeId} of site ${c.site} (role ${c.role}) with the hub's CA`,
    `certificate ${files.cert}: serial ${c.serial}, valid until ${c.notAfter.toISOString()}`,
    `key ${files.key} (mode 0600); node key bound: ${c.nodeKey ? 'yes' : 'no'}`,
    `CA ${files.ca}: ${j.caSubject}, SHA-256 ${j.caFingerprint}`,
  ];
}
