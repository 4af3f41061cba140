// Test aid, a UDP stand-in for ping (ping is not installed everywhere):
//   listen PORT       print 'ready', answer one datagram with 'pong:<it>', exit 0 (exit 3 after 5 s)
//   send ADDR PORT    send 'ping' every 100 ms until an answer, print it and its source, exit 0 (exit 4 after 2 s)
import dgram from 'node:dgram';

const [mode, a, b] = process.argv.slice(2);
const s = dgram.createSocket('udp4');
if (mode === 'listen') {
  s.on('message', (m, r) => s.send(Buffer.from(`pong:${m}`), r.port, r.address, () => process.exit(0)));
  s.bind(Number(a), () => process.stdout.write('ready\n'));
  setTimeout(() => process.exit(3), 5000);
} else {
  s.on('message', (m, r) => {
    process.stdout.write(`${m} from ${r.address}\n`);
    process.exit(0);
  });
  const ping = () => s.send('ping', Number(b), a);
  ping();
  setInterval(ping, 100);
  setTimeout(() => process.exit(4), 2000);
}
