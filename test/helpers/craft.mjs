// Sends hand-made datagrams to a group from inside a test namespace: mcbench v1 packets with
// chosen sequence numbers and stamps, and foreign junk. Usage:
//   node craft.mjs GROUP PORT '<json list of packets>'
// each packet: {"kind":"data"|"fin", "session":"hex16", "seq":N, "ageMs":N, "len":N,
//                "payload":"pattern"|"pattern-flip"}   (default payload: zeros)
//           or {"raw":"hex bytes"}
import dgram from 'node:dgram';

const [group, portText, listJson] = process.argv.slice(2);
const port = Number(portText);
const list = JSON.parse(listJson);

function encode(p) {
  const len = p.len ?? 64;
  const b = Buffer.alloc(Math.max(len, 32));
  b.write('MCB1', 0, 'latin1');
  b[4] = p.version ?? 1;
  b[5] = p.kind === 'fin' ? 2 : 1;
  b.writeUInt16BE(p.headerLength ?? 32, 6);
  b.writeBigUInt64BE(BigInt('0x' + p.session), 8);
  b.writeBigUInt64BE(BigInt(p.seq), 16);
  // Sub-millisecond CLOCK_REALTIME (Date.now() truncates to whole ms): the age is exact to ~us.
  const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
  const sendNs = nowNs - BigInt(Math.round((p.ageMs ?? 0) * 1e6));
  b.writeBigUInt64BE(sendNs, 24);
  if (p.payload === 'pattern' || p.payload === 'pattern-flip') writePattern(b, 32, BigInt('0x' + p.session));
  if (p.payload === 'pattern-flip') b[b.length - 1] ^= 0x01;
  return b;
}

// The --verify-payload pattern, written here from its description (wire.h): the datagram's
// 8-byte word k (big-endian; a short last word keeps its leading bytes) is
// splitmix64(session + k * 0x9e3779b97f4a7c15), from the end of the header on.
function writePattern(b, from, session) {
  const M = (1n << 64n) - 1n;
  for (let off = from; off < b.length; off += 8) {
    let z = (session + BigInt(off / 8) * 0x9e3779b97f4a7c15n) & M;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    const w = Buffer.alloc(8);
    w.writeBigUInt64BE(z);
    w.copy(b, off, 0, Math.min(8, b.length - off));
  }
}

const sock = dgram.createSocket('udp4');
sock.bind(0, () => {
  sock.setMulticastTTL(1);
  let i = 0;
  const next = () => {
    if (i === list.length) return sock.close();
    const p = list[i++];
    const buf = p.raw !== undefined ? Buffer.from(p.raw, 'hex') : encode(p);
    // One at a time with a short gap: the order on the wire is the order given.
    sock.send(buf, port, group, (err) => {
      if (err) {
        console.error(err.message);
        process.exit(1);
      }
      setTimeout(next, p.gapMs ?? 1);
    });
  };
  next();
});
