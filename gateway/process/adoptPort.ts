// Preloaded into a worker's Node processes (NODE_OPTIONS=--require dist/adopt-port.js) when "adoptPort" is on:
// the first `listen` on a fixed TCP port (`app.listen(3000)`) listens on $PORT instead, and says so once, so
// that an app with a hard-coded port works behind the gateway as it is. Runs inside the app: no imports but
// Node's own, and nothing else is touched.
import * as net from 'node:net';

/** Set once a process of this worker has decided (moved a port, or listened on $PORT itself). */
const DECIDED = 'BATON_PORT_ADOPTED';

const target = Number(process.env.PORT);

function fixedPort(value: unknown): number | null {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : null;
}

if (Number.isInteger(target) && target > 0 && !process.env[DECIDED]) {
  const listen = net.Server.prototype.listen;
  // The signature is overloaded; `listen(port, …)` and `listen({ port, … })` are the fixed-port forms.
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const [first] = args;
    const options = typeof first === 'object' && first !== null ? (first as net.ListenOptions) : null;
    const port = fixedPort(options ? options.path === undefined && options.port : first);
    if (port !== null && !process.env[DECIDED]) {
      // Children started from here on (cluster workers, a dev server's own child) keep what they ask for.
      process.env[DECIDED] = '1';
      if (port !== target) {
        args[0] = options ? { ...options, port: target } : target;
        process.stderr.write(
          `[baton] the app asked for port ${port}; Baton moved it to $PORT (${target}). ` +
            `Set "adoptPort": false in baton.json to turn this off.\n`,
        );
      }
    }
    return listen.apply(this, args as Parameters<typeof listen>);
  } as typeof listen;
}
