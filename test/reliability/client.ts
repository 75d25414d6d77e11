// HTTP the way the reliability suite and the benchmark use it: one request to 127.0.0.1 with the Host a browser
// would send, over the caller's keep-alive agent, answered as a whole and bounded in time.
import * as http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function get(
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders,
  agent: http.Agent | false = false,
  method = 'GET',
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, headers, agent, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Failed and misrouted answers of a load run; the first few are kept to be printed. */
export class FailureTally {
  failed = 0;
  misrouted = 0;
  readonly samples: string[] = [];

  constructor(private readonly keep: number) {}

  fail(why: string, misrouted = false): void {
    this.failed++;
    if (misrouted) this.misrouted++;
    if (this.samples.length < this.keep) this.samples.push(why);
  }
}
