// QEMU's guestfwd command (image/update-test.sh): QEMU runs it once per TCP connection the
// guest opens to a forwarded address, with the connection on stdin and stdout; it relays the
// bytes to 127.0.0.1:PORT on the host (the hub's enrolment endpoint or its broker).
//
//   node image/lib/guest-pipe.mjs PORT
import { connect } from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('guest-pipe: usage: guest-pipe.mjs PORT\n');
  process.exit(2);
}
const socket = connect({ host: '127.0.0.1', port });
process.stdin.pipe(socket);
socket.pipe(process.stdout);
socket.on('error', () => process.exit(1));
socket.on('close', () => process.exit(0));
process.stdin.on('error', () => socket.destroy());
