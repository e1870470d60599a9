/**
 * Serves stand-ins on 127.0.0.1 at a random port the way the local server does: each
 * request, with its whole body read and its headers lower-cased, goes to every stand-in
 * in turn until one answers. Tests then talk to it with the real AWS SDK clients.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StandIn, StandInRequest } from '../../local/aws/types';

export interface Mounted {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  /** Stops the server; the stand-ins are the caller's to close. */
  close(): Promise<void>;
}

/** Credentials and region for SDK clients pointed at a mounted stand-in. */
export function clientConfig(endpoint: string) {
  return { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;
}

export async function mount(standIns: readonly StandIn[]): Promise<Mounted> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      const request: StandInRequest = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0],
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        target: req.url ?? '/',
        bytes: Buffer.concat(chunks),
      };
      void (async () => {
        try {
          for (const standIn of standIns) {
            const response = await standIn.handle(request);
            if (response) {
              res.writeHead(response.status, response.headers ?? {});
              res.end(response.bytes ?? response.body);
              return;
            }
          }
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('No stand-in handles this request');
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
