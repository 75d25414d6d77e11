// A stand-in for a browser tab's page loads: keeps cookies like a browser and speaks to the gateway on
// 127.0.0.1 with a `gN.localhost` Host header (Node cannot resolve *.localhost names).
import * as http from 'node:http';

const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

export interface PageResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class BrowserClient {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly port: number,
    private readonly host: string,
  ) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** A page navigation, as a browser sends it. */
  navigate(pathname: string): Promise<PageResponse> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {
        Host: `${this.host}:${this.port}`,
        Accept: 'text/html,application/xhtml+xml',
        'Sec-Fetch-Mode': 'navigate',
        'User-Agent': USER_AGENT,
      };
      if (this.cookies.size > 0) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const req = http.get(
        { host: '127.0.0.1', port: this.port, path: pathname, headers, timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            this.keep(res.headers['set-cookie'] ?? []);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${pathname} on ${this.host} timed out`)));
      req.on('error', reject);
    });
  }

  private keep(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || /^max-age=-/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }
}
