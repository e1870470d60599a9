/**
 * Replaces `@smithy/core/event-streams` in every bundle (lib/bundling.ts). Event streams serve
 * operations such as Lambda's InvokeWithResponseStream or S3's SelectObjectContent, which
 * Cirrus never calls; the Lambda and S3 clients still import the module (and every client's
 * HTTP protocol can load it), so without this each function would carry it. A client is still
 * built with the names it imports; an event-stream operation fails with a plain error.
 */
type Input = { eventStreamSerdeProvider: (input: never) => unknown };

function unsupported(): never {
  throw new Error('Event streams are not bundled in Cirrus functions (core/aws/no-event-streams.ts)');
}

/** What a client's configuration calls when it is built: a marshaller that refuses to work. */
export const eventStreamSerdeProvider = (_options?: unknown) => ({ serialize: unsupported, deserialize: unsupported });

export const resolveEventStreamSerdeConfig = <T extends Input>(input: T) => Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input as never) });

/** What the HTTP protocol loads to (de)serialize an event stream. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    unsupported();
  }
}
