// Bad input: one clear line naming the flag and the valid range, exit code 2, no stack trace.
// These fail before any socket is opened, so they run without a namespace.
import { describe, expect, it } from 'vitest';
import { mcbenchNoNet } from './helpers/netns.js';

const cases: Array<[string, string[], RegExp]> = [
  ['group not multicast', ['send', '-g', '10.0.0.1'], /-g\/--group: 10\.0\.0\.1 is not a multicast address \(valid range 224\.0\.0\.0 to 239\.255\.255\.255, or an IPv6 group in ff00::\/8\)/],
  ['group not an address', ['recv', '-g', 'banana'], /-g\/--group: 'banana' is not an IP address \(multicast range 224/],
  ['port 0', ['send', '-g', '239.1.1.1', '-p', '0'], /-p\/--port: '0' is out of range \(1 to 65535\)/],
  ['port 65536', ['recv', '-g', '239.1.1.1', '-p', '65536'], /-p\/--port: '65536' is out of range \(1 to 65535\)/],
  ['port text', ['recv', '-g', '239.1.1.1', '-p', 'http'], /-p\/--port: 'http' is not a port \(decimal digits, 1 to 65535\)/],
  ['length below header', ['send', '-g', '239.1.1.1', '-l', '31'], /-l\/--length: 31 bytes is out of range \(32, the mcbench header, to 65507/],
  ['length above UDP max', ['send', '-g', '239.1.1.1', '-l', '65508'], /-l\/--length: 65508 bytes is out of range/],
  ['negative rate', ['send', '-g', '239.1.1.1', '-b', '-5M'], /-b\/--bandwidth: '-5M' is not a rate/],
  ['text rate', ['send', '-g', '239.1.1.1', '-b', 'fast'], /-b\/--bandwidth: 'fast' is not a rate/],
  ['negative pps', ['send', '-g', '239.1.1.1', '--pps=-1'], /--pps: '-1' is not a rate/],
  ['both rates', ['send', '-g', '239.1.1.1', '-b', '1M', '--pps', '10'], /give one rate, not both/],
  ['negative time', ['send', '-g', '239.1.1.1', '-t=-3'], /-t\/--time: '-3' is not a duration/],
  ['text time', ['recv', '-g', '239.1.1.1', '-t', 'soon'], /-t\/--time: 'soon' is not a duration/],
  ['zero count', ['send', '-g', '239.1.1.1', '-n', '0'], /-n\/--count: 0 is out of range \(1 to/],
  ['fractional count', ['send', '-g', '239.1.1.1', '-n', '2.5'], /-n\/--count: '2\.5' is not a whole number/],
  ['negative count', ['send', '-g', '239.1.1.1', '-n=-4'], /-n\/--count: '-4' is not a count/],
  ['ttl', ['send', '-g', '239.1.1.1', '--ttl', '256'], /--ttl: 256 is out of range \(0 to 255\)/],
  ['batch', ['send', '-g', '239.1.1.1', '--batch', '0'], /--batch: 0 is out of range \(1 to 1024\)/],
  ['rcvbuf', ['recv', '-g', '239.1.1.1', '--rcvbuf', 'lots'], /--rcvbuf: 'lots' is not a size/],
  ['rcvbuf too big', ['recv', '-g', '239.1.1.1', '--rcvbuf', '4G'], /--rcvbuf: 4294967296 bytes is out of range \(1 bytes to/],
  ['force without size', ['recv', '-g', '239.1.1.1', '--rcvbuf-force'], /--rcvbuf-force: give the size with --rcvbuf/],
  ['interval', ['recv', '-g', '239.1.1.1', '-i', '0.01'], /-i\/--interval: 0\.01 s is out of range \(0\.1 s to 3600 s\)/],
  ['unknown interface', ['recv', '-g', '239.1.1.1', '-I', 'nosuch9'], /-I\/--interface: unknown interface 'nosuch9'/],
  ['unknown interface (send)', ['send', '-g', '239.1.1.1', '-I', 'nosuch9', '-n', '1'], /-I\/--interface: unknown interface 'nosuch9'/],
  ['bad interface address', ['send', '-g', '239.1.1.1', '-I', '10.1.2'], /-I\/--interface: '10\.1\.2' is neither an interface name nor an IPv4 address/],
  ['json into a missing folder', ['recv', '-g', '239.1.1.1', '--json', '/nonexistent-mcbench/r.json'], /--json: cannot write \/nonexistent-mcbench\/r\.json: \/nonexistent-mcbench is not a writable folder/],
  ['hgrm to stdout', ['recv', '-g', '239.1.1.1', '--hgrm', '-'], /--hgrm: give a file/],
  ['unknown flag', ['send', '-g', '239.1.1.1', '--bogus'], /Unknown argument: bogus/],
  ['missing group', ['recv'], /Missing required argument: group/],
  ['no command', [], /give a command/],
  // issue 10: one number parser, one rule for string flags, output targets, input files
  ['hex port', ['send', '-g', '239.1.1.1', '-p', '0x1838'], /^mcbench send: -p\/--port: '0x1838' is not a port \(decimal digits, 1 to 65535\)$/m],
  ['exponent port', ['send', '-g', '239.1.1.1', '-p', '6.2e3'], /-p\/--port: '6\.2e3' is not a port/],
  ['exponent batch', ['send', '-g', '239.1.1.1', '--batch', '1e2'], /--batch: '1e2' is not a whole number \(1 to 1024\)/],
  ['fractional length', ['send', '-g', '239.1.1.1', '-l', '32.4'], /-l\/--length: '32\.4' is not a whole number/],
  ['exponent rate', ['send', '-g', '239.1.1.1', '-b', '1e3'], /-b\/--bandwidth: '1e3' is not a rate/],
  ['rcvbuf range in whole bytes', ['recv', '-g', '239.1.1.1', '--rcvbuf', '1G'], /--rcvbuf: 1073741824 bytes is out of range \(1 bytes to 1073741823 bytes\)$/m],
  ['json without a value', ['send', '-g', '239.1.1.1', '--json'], /^mcbench send: --json: needs a value$/m],
  ['json twice', ['recv', '-g', '239.1.1.1', '--json', 'a', '--json', 'b'], /^mcbench recv: --json: given more than once; give it once$/m],
  ['settings json without a value', ['settings', '--json'], /^mcbench settings: --json: needs a value$/m],
  ['settings json under /proc', ['settings', '--json', '/proc/self/x'], /--json: cannot write \/proc\/self\/x: it is under \/proc or \/sys/],
  ['doctor json a folder', ['doctor', '--sample', '0', '--json', '/tmp'], /--json: cannot write \/tmp: it is a folder/],
  ['json ending in /', ['recv', '-g', '239.1.1.1', '--json', 'out/'], /--json: cannot write out\/: it ends in \//],
  ['suite /dev/zero', ['suite', '/dev/zero'], /^mcbench suite: \/dev\/zero: not a regular file \(a character device\)$/m],
  ['set a folder', ['run', '--local', '--set', 'net.core=1'], /--set: net\.core is a group of sysctls, not one/],
  ['set write-only', ['run', '--local', '--set', 'net.ipv4.route.flush=1'], /--set: net\.ipv4\.route\.flush is write-only/],
  ['set a bad value', ['run', '--local', '--set', 'net.core.rmem_max=12ab'], /--set: net\.core\.rmem_max=12ab: '12ab' is not a whole number of bytes \(0 to 2147483647\)/],
  ['set a mode out of its values', ['ab', '--local', '--a', 'net.ipv4.conf.all.rp_filter=3', '--b', 'net.ipv4.conf.all.rp_filter=1'], /--a: net\.ipv4\.conf\.all\.rp_filter=3: '3' is not one of 0 off, 1 strict, 2 loose/],
  ['recv on an address not here', ['recv', '-g', '239.1.1.1', '-I', '192.0.2.77', '-t', '1'], /-I\/--interface: no interface on this host has the address 192\.0\.2\.77/],
];

describe('bad input', () => {
  it.each(cases)('%s: exit 2 and one line', async (_name, args, message) => {
    const r = await mcbenchNoNet(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe('');
  });
});
