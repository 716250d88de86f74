import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FlashError } from './errors.ts';
import { checkOptions, parseClaimFile, type RawOptions } from './options.ts';

const base: RawOptions = { image: 'out/outpost-arm64.img.zst', target: '/dev/sdb', site: 'branch-a', claim: '7kq2-m9xd-4hrt', hub: 'https://hub.example.net:8443' };

function refusal(raw: RawOptions, file?: Parameters<typeof checkOptions>[1]): string {
  try {
    checkOptions(raw, file);
  } catch (err) {
    assert.instance(err, FlashError);
    assert.is((err as FlashError).code, 'flash.usage');
    return (err as Error).message;
  }
  throw new FlashError('flash.io', 'expected a usage error');
}

const check = suite('checkOptions');

check('a full command line: the code normalised, its id, the hub without a slash', () => {
  const o = checkOptions({ ...base, hub: 'https://hub.example.net:8443/', node: 'a3', yes: true });
  assert.is(o.claim, '7KQ2-M9XD-4HRT');
  assert.is(o.claimId, '7KQ2');
  assert.is(o.hub, 'https://hub.example.net:8443');
  assert.is(o.compressed, true);
  assert.is(o.node, 'a3');
  assert.is(o.yes, true);
  assert.is(o.qr, true);
});

check('the image must be .img or .img.zst', () => {
  assert.match(refusal({ ...base, image: 'outpost.iso' }), 'must be a .img or .img.zst file');
  assert.is(checkOptions({ ...base, image: 'a.img' }).compressed, false);
});

check('site: required, and an id', () => {
  assert.match(refusal({ ...base, site: undefined }), '--site SITE');
  assert.match(refusal({ ...base, site: 'Branch A' }), 'invalid site id "Branch A"');
});

check('node: an id when given', () => {
  assert.match(refusal({ ...base, node: 'A3' }), 'invalid node id "A3"');
});

check('claim: required, and a well-formed code', () => {
  assert.match(refusal({ ...base, claim: undefined }), '--claim CODE');
  assert.match(refusal({ ...base, claim: '7KQ2-M9XD' }), 'it has 8 letters and digits');
  assert.match(refusal({ ...base, claim: '7KQ2-M9XD-4HR!' }), '"!" is not one of');
});

check('hub: required, https://host:port', () => {
  assert.match(refusal({ ...base, hub: undefined }), '--hub https://HOST:PORT');
  assert.match(refusal({ ...base, hub: 'http://hub:8443' }), 'invalid hub address');
  assert.match(refusal({ ...base, hub: 'https://hub' }), 'invalid hub address');
  assert.match(refusal({ ...base, hub: 'https://hub:70000' }), 'invalid hub address');
});

check('a claim file fills in the code, the hub, the site and the expiry', () => {
  const file = { claim: '7KQ2-M9XD-4HRT', hub: 'https://10.0.0.1:8443', site: 'branch-a', expiresAt: '2026-12-08T10:00:00.000Z' };
  const o = checkOptions({ image: 'x.img', target: 'out.img' }, file);
  assert.is(o.site, 'branch-a');
  assert.is(o.hub, 'https://10.0.0.1:8443');
  assert.equal(o.claimExpires, new Date('2026-12-08T10:00:00.000Z'));
  assert.match(refusal({ ...base, site: 'branch-b' }, file), 'the claim file is for site branch-a, not branch-b');
  assert.match(refusal({ image: 'x.img', target: 'o.img' }, { ...file, expiresAt: 'soon' }), 'is not a date');
});

check.run();

const claimFile = suite('parseClaimFile');

claimFile('the JSON of enrol create --write; anything else refused', () => {
  assert.equal(parseClaimFile('{"hub":"https://h:1","claim":"7KQ2-M9XD-4HRT","site":"s","expiresAt":"2026-12-08T10:00:00.000Z"}', 'c.json').claim, '7KQ2-M9XD-4HRT');
  assert.throws(() => parseClaimFile('nope', 'c.json'), /not a claim file \(not JSON\)/);
  assert.throws(() => parseClaimFile('{"hub":"https://h:1"}', 'c.json'), /it has no "claim"/);
  assert.throws(() => parseClaimFile('{"claim":7}', 'c.json'), /"claim" must be a string/);
});

claimFile.run();
