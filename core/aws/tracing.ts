/**
 * The AWS SDK clients, for X-Ray: with tracing on (`CIRRUS_TRACING`, compiled into the bundle),
 * core/runtime/observe.ts instruments every client made so far and every one made after, so each
 * AWS call is a subsegment. Off, nothing is kept.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = any;

const clients: Client[] = [];
let instrument: ((client: Client) => void) | undefined;

/** Registers a client for tracing; returns it. */
export function traced<C>(client: C): C {
  if (process.env.CIRRUS_TRACING === 'true') {
    clients.push(client);
    instrument?.(client);
  }
  return client;
}

/** Instruments the registered clients, and those registered from now on, with `fn`. */
export function traceClients(fn: (client: Client) => void): void {
  instrument = fn;
  for (const client of clients) fn(client);
}
