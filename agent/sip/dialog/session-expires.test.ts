import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SipParseError } from '../message/errors.ts';
import { formatMinSe, formatSessionExpires, parseMinSe, parseSessionExpires } from './session-expires.ts';

function parseFails(fn: () => unknown, header: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SipParseError);
    assert.is((e as SipParseError).header, header);
    return;
  }
  assert.unreachable('expected SipParseError');
}

const ParseSE = suite('parseSessionExpires');

ParseSE('delta-seconds with refresher and other parameters (RFC 4028 §4)', () => {
  const se = parseSessionExpires('4000;refresher=uac;x=1');
  assert.is(se.interval, 4000);
  assert.is(se.refresher, 'uac');
  assert.equal([...se.params], [['refresher', 'uac'], ['x', '1']]);
  assert.equal(parseSessionExpires(' 1800 ; REFRESHER = UAS').refresher, 'uas');
  assert.is(parseSessionExpires('90').refresher, undefined);
});

ParseSE('refuses what is not delta-seconds or a known refresher (§4)', () => {
  parseFails(() => parseSessionExpires('abc'), 'Session-Expires');
  parseFails(() => parseSessionExpires('1800;refresher=both'), 'Session-Expires');
  parseFails(() => parseSessionExpires('1800;refresher'), 'Session-Expires');
  parseFails(() => parseSessionExpires('1800 junk'), 'Session-Expires');
});

const FormatSE = suite('formatSessionExpires');

FormatSE('writes interval, refresher, then the other parameters', () => {
  assert.is(formatSessionExpires({ interval: 1800, refresher: 'uas', params: new Map() }), '1800;refresher=uas');
  assert.is(formatSessionExpires(parseSessionExpires('600;x=1;refresher=uac')), '600;x=1;refresher=uac');
  assert.is(formatSessionExpires({ interval: 90, params: new Map() }), '90');
});

const MinSe = suite('parseMinSe / formatMinSe');

MinSe('delta-seconds, parameters ignored (RFC 4028 §5)', () => {
  assert.is(parseMinSe('90'), 90);
  assert.is(parseMinSe('600;foo=bar'), 600);
  assert.is(formatMinSe(600), '600');
  parseFails(() => parseMinSe(''), 'Min-SE');
  parseFails(() => parseMinSe('-5'), 'Min-SE');
});

ParseSE.run();
FormatSE.run();
MinSe.run();
