// Pure: group and source parsing of both families (scopes, SSM ranges, the note), -I forms, and
// the Udp6 counters of /proc/net/snmp6 (a real file of this kernel, values set per field).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUdp6Snmp } from '../src/core/counters.js';
import { checkSsm, parseGroupAddress, parseSources, scopeName } from '../src/core/multicast-address.js';
import { parseInterface, recvSpec, sendSpec } from '../src/core/spec.js';

describe('parseGroupAddress', () => {
  it('IPv4: 224/4, SSM exactly 232/8', () => {
    expect(parseGroupAddress('239.255.0.1')).toEqual({ address: '239.255.0.1', family: 'ipv4', ssm: false, linkLocal: false });
    expect(parseGroupAddress(' 232.0.0.1 ').ssm).toBe(true);
    expect(parseGroupAddress('232.255.255.255').ssm).toBe(true);
    expect(parseGroupAddress('233.0.0.1').ssm).toBe(false);
    expect(() => parseGroupAddress('240.0.0.1')).toThrow(/not a multicast address/);
  });
  it('IPv6: scopes decide; ff3x:0::/32 is SSM, a unicast-prefix-based ff3x group is not', () => {
    expect(parseGroupAddress('ff15::1')).toMatchObject({ family: 'ipv6', ssm: false, linkLocal: false });
    expect(parseGroupAddress('ff02::1:3').linkLocal).toBe(true);
    expect(parseGroupAddress('ff12::1').linkLocal).toBe(true); // transient flag, link-local scope
    expect(parseGroupAddress('ff3e::1:2').ssm).toBe(true);
    expect(parseGroupAddress('ff35::8000:1').ssm).toBe(true);
    expect(parseGroupAddress('ff3e:0:0:0:0:0:0:1').ssm).toBe(true);
    expect(parseGroupAddress('ff3e:30:fd00::1').ssm).toBe(false); // RFC 3306 plen 48: not the SSM /32
    expect(parseGroupAddress('ff1e::1').ssm).toBe(false);
    expect(parseGroupAddress('FF3E::1').ssm).toBe(true);
    expect(scopeName(parseGroupAddress('ff05::2'))).toBe('site-local');
    expect(scopeName(parseGroupAddress('ff0e::2'))).toBe('global');
    expect(() => parseGroupAddress('ff01::1')).toThrow(/interface-local/);
    expect(() => parseGroupAddress('ff10::1')).toThrow(/reserved scope 0/);
    expect(() => parseGroupAddress('ff3f::1')).toThrow(/reserved scope f/);
    expect(() => parseGroupAddress('fd00::1')).toThrow(/not an IPv6 multicast address/);
    expect(() => parseGroupAddress('::ffff:239.1.1.1')).toThrow(/not an IPv6 multicast address/);
    expect(() => parseGroupAddress('ff15::1%eth0')).toThrow(/-I/);
  });
});

describe('--source and SSM', () => {
  const v4 = parseGroupAddress('232.1.1.1');
  const v6 = parseGroupAddress('ff3e::1');
  it('unicast of the group\'s family, each once, at most 10', () => {
    expect(parseSources(['10.0.0.1', ' 10.0.0.2'], v4)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(parseSources('fd00::2', v6)).toEqual(['fd00::2']);
    expect(parseSources(undefined, v6)).toEqual([]);
    expect(() => parseSources('fd00::2', v4)).toThrow(/not an IPv4 address like the group/);
    expect(() => parseSources('ff02::1', v6)).toThrow(/not a unicast address/);
    expect(() => parseSources('0.0.0.0', v4)).toThrow(/not a unicast address/);
    expect(() => parseSources(Array.from({ length: 11 }, (_, i) => `10.0.0.${i + 1}`), v4)).toThrow(/at most 10/);
  });
  it('an SSM group needs a source; an ASM group with one gets a note', () => {
    expect(() => checkSsm(v4, [])).toThrow(/232.0.0.0\/8, RFC 4607/);
    expect(() => checkSsm(v6, [])).toThrow(/ff3x::\/32/);
    expect(checkSsm(v6, ['fd00::2'])).toBeNull();
    expect(checkSsm(parseGroupAddress('239.1.1.1'), ['10.0.0.1'])).toMatch(/^note: 239.1.1.1 is not in an SSM range/);
    expect(recvSpec({ group: '232.1.1.1', port: '5001', source: ['10.0.0.1'] })).toMatchObject({ family: 'ipv4', sources: ['10.0.0.1'], ssmNote: null });
  });
  it('a link-local group needs -I, on both sides', () => {
    expect(() => sendSpec({ group: 'ff02::1:3', port: '5001', count: '1' })).toThrow(/-I\/--interface: ff02::1:3 is a link-local group/);
    expect(recvSpec({ group: 'ff02::1:3', port: '5001', interface: 'eth0' })).toMatchObject({ family: 'ipv6', interface: 'eth0' });
  });
});

describe('-I forms', () => {
  it('a name, an IPv4 address, an IPv6 address, one with its zone', () => {
    expect(parseInterface('eth0')).toBe('eth0');
    expect(parseInterface('10.0.0.2')).toBe('10.0.0.2');
    expect(parseInterface('fd00::2')).toBe('fd00::2');
    expect(parseInterface('fe80::1%eth0')).toBe('fe80::1%eth0');
    expect(() => parseInterface('fe80::1%')).toThrow(/neither an interface name nor an IPv6 address/);
    expect(() => parseInterface('fe80::g')).toThrow(/neither/);
  });
});

describe('parseUdp6Snmp', () => {
  const real = readFileSync(join(import.meta.dirname, 'fixtures', 'counters', 'snmp6.host.txt'), 'utf8');
  const set = (text: string, name: string, v: number) => text.replace(new RegExp(`^${name}\\s+\\d+$`, 'm'), `${name}\t${v}`);
  it('maps each Udp6 field; UdpLite6 lines are not taken', () => {
    let t = real;
    const fields = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors', 'InCsumErrors', 'IgnoredMulti', 'MemErrors'];
    fields.forEach((f, i) => (t = set(t, `Udp6${f}`, 1000 + i)));
    t = set(t, 'UdpLite6InDatagrams', 999);
    expect(parseUdp6Snmp(t)).toEqual(Object.fromEntries(fields.map((f, i) => [f, 1000 + i])));
  });
  it('null when a required counter is missing; optional ones null', () => {
    expect(parseUdp6Snmp(real.replace(/^Udp6RcvbufErrors.*$/m, ''))).toBeNull();
    expect(parseUdp6Snmp(real.replace(/^Udp6MemErrors.*$/m, ''))?.MemErrors).toBeNull();
    expect(parseUdp6Snmp('')).toBeNull();
  });
});
