// The pure pieces of --hosts: inventory validation (one line naming the key), --ssh-option,
// NDJSON framing across arbitrary chunk boundaries, and the remote shell quoting checked against
// a real /bin/sh.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseInventory, parseSshOptions, settingsHosts, withRoles } from '../src/core/inventory.js';
import { frameEvent, isEvent, NdjsonReader } from '../src/core/ndjson.js';
import { compatibleVersion, parseVersion } from '../src/core/remote.js';
import { mcbenchArgv, shellQuote } from '../src/where/ssh.js';

const ok = `hosts:
  g1: { ssh: root@10.0.0.11, interface: eth1 }
  g2: { ssh: guest-b, interface: eth1, mcbench: /opt/mcbench/bin/mcbench.js }
  g3: { ssh: "ssh://admin@[fd00::3]:2222", interface: eth1, sudo: true }
  me: { local: true, interface: lo }
sender: g1
receivers: [g2, g3]
`;
const err = (text: string) => {
  try {
    parseInventory(text);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
};

describe('inventory', () => {
  it('the issue\'s example, YAML and JSON', () => {
    const inv = parseInventory(ok);
    expect(inv.sender).toBe('g1');
    expect(inv.receivers).toEqual(['g2', 'g3']);
    expect(inv.hosts.map((h) => [h.name, h.ssh, h.local, h.interface, h.mcbench, h.sudo])).toEqual([
      ['g1', 'root@10.0.0.11', false, 'eth1', null, false],
      ['g2', 'guest-b', false, 'eth1', '/opt/mcbench/bin/mcbench.js', false],
      ['g3', 'ssh://admin@[fd00::3]:2222', false, 'eth1', null, true],
      ['me', null, true, 'lo', null, false],
    ]);
    expect(parseInventory(JSON.stringify({ hosts: { a: { local: true, interface: 'lo' }, b: { ssh: 'b', interface: 'eth0' } }, sender: 'a', receivers: ['b'] })).receivers).toEqual(['b']);
  });

  it('each mistake is one line naming the key', () => {
    expect(err(ok.replace('sudo: true', 'sudo: yes please'))).toBe("hosts.g3.sudo: 'yes please' is not true or false");
    expect(err(ok.replace('interface: eth1, sudo', 'iface: eth1, sudo'))).toBe('hosts.g3.iface: unknown key (one of: ssh, local, interface, mcbench, sudo)');
    expect(err(ok.replace('ssh: guest-b', 'ssh: -oProxyCommand=x'))).toBe("hosts.g2.ssh: '-oProxyCommand=x' is not an ssh destination (no spaces, not starting with '-')");
    expect(err(ok.replace('receivers: [g2, g3]', 'receivers: [g2, g9]'))).toBe("receivers: 'g9' is not a host of the inventory (one of: g1, g2, g3, me)");
    expect(err(ok.replace('receivers: [g2, g3]', 'receivers: [g2, g1]'))).toBe('receivers: g1 is the sender; a host either sends or receives');
    expect(err(ok + 'extra: 1\n')).toBe('extra: unknown key (one of: hosts, sender, receivers)');
    expect(err(ok.replace('me: { local: true', 'me: { local: true, ssh: x'))).toBe('hosts.me: give ssh or local: true, not both');
    expect(err(ok.replace('interface: lo', 'interface: "a/b"'))).toBe("hosts.me.interface: 'a/b' is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
    expect(err('hosts: [\n')).toMatch(/^not valid YAML or JSON: /);
    expect(err(ok.replace('  me:', '  g1:'))).toMatch(/^not valid YAML or JSON: Map keys must be unique/);
  });

  it('--sender/--receivers/--on and --ssh-option', () => {
    const inv = withRoles(parseInventory(ok), { sender: 'g2', receivers: 'g1,g3' });
    expect([inv.sender, inv.receivers]).toEqual(['g2', ['g1', 'g3']]);
    expect(settingsHosts(inv, null)).toEqual(['g1', 'g3']);
    expect(settingsHosts(inv, 'g2,g3')).toEqual(['g2', 'g3']);
    expect(() => settingsHosts(inv, 'me')).toThrow("--on: 'me' is not a host of this run (one of: g2, g1, g3)");
    expect(() => withRoles(parseInventory(ok), { receivers: 'g2,g2' })).toThrow('--receivers: g2 is named twice');
    expect(parseSshOptions(['ConnectTimeout=3', 'ProxyJump=bastion'])).toEqual(['ConnectTimeout=3', 'ProxyJump=bastion']);
    expect(() => parseSshOptions(['ControlPath=/tmp/x'])).toThrow('--ssh-option: ControlPath is set by mcbench itself');
    expect(() => parseSshOptions(['nonsense'])).toThrow("--ssh-option: 'nonsense' is not KEY=VALUE");
  });

  it('versions: same major.minor only', () => {
    expect(parseVersion('0.1.0\n')).toBe('0.1.0');
    expect(parseVersion('mcbench 1.2.3-rc.1')).toBe('1.2.3-rc.1');
    expect(parseVersion('bash: mcbench: command not found')).toBeNull();
    expect(compatibleVersion('0.1.0', '0.1.7')).toBe(true);
    expect(compatibleVersion('0.1.0', '0.2.0')).toBe(false);
  });
});

describe('NDJSON events', () => {
  it('lines cut anywhere come back whole; strays are kept apart', () => {
    const text = frameEvent('start', { a: 1 }) + 'warning: not json\n' + frameEvent('interval', { s: 'x\ny' }) + frameEvent('end', { done: true }).trimEnd();
    for (let cut = 1; cut < text.length; cut += 7) {
      const r = new NdjsonReader();
      const got = [...r.push(text.slice(0, cut)), ...r.push(text.slice(cut)), ...r.end()];
      expect(got.filter(isEvent).map((e) => e.event)).toEqual(['start', 'interval', 'end']);
      expect(got.filter((e) => !isEvent(e))).toEqual([{ stray: 'warning: not json' }]);
    }
  });
});

describe('the remote command line', () => {
  it('every word survives /bin/sh as it is', () => {
    const words = ["it's", 'a b', '$(touch /tmp/x)', '`id`', '"q"', '\\', '*', '-g', '', 'semi;colon', 'new\nline'];
    const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(words);
  });

  it('sudo -n, the lifeline variable after sudo, node for a .js path', () => {
    const h = { name: 'g', ssh: 'g', local: false, interface: 'eth0', mcbench: '/opt/m/bin/mcbench.js', sudo: true };
    expect(mcbenchArgv(h, ['recv', '-g', '239.1.1.1'])).toEqual(['sudo', '-n', 'env', 'MCBENCH_STDIN_LIFELINE=1', 'node', '/opt/m/bin/mcbench.js', 'recv', '-g', '239.1.1.1']);
    expect(mcbenchArgv({ ...h, mcbench: null, sudo: false }, ['--version'], '/home/u/.local/mcbench/bin/mcbench')).toEqual(['env', 'MCBENCH_STDIN_LIFELINE=1', '/home/u/.local/mcbench/bin/mcbench', '--version']);
  });
});
