/**
 * The WebSocket message route: parse the frame, validate its data against the action's
 * schema, run the action as the connection's user, and answer with a reply frame as the
 * route response. Every failure becomes an error frame; nothing is thrown to API Gateway
 * except real crashes (which API Gateway reports to the client as an internal error).
 */
import { CirrusError, toWireError } from '../errors';
import { newId } from '../domain/ids';
import { log } from '../log';
import { count } from '../metrics';
import { MAX_WS_MESSAGE_BYTES } from '../protocol/constants';
import { actionRequests, RequestFrame, type ActionName, type ActionRequest } from '../protocol/schema';
import { findRefusedString } from '../protocol/strings';
import { identityOf, type ConnectionIdentity, type WsRouteEvent } from './identity';
import { observed } from './observe';
import '../protocol/zod-locale';

export interface WsRouteResult {
  statusCode: number;
  body: string;
}

/** Each action's handler takes the request its schema validated (protocol/schema.ts). */
export type ActionHandlers = { [A in ActionName]: (identity: ConnectionIdentity, data: ActionRequest<A>) => Promise<unknown> };


function reply(id: string | null, action: string | undefined, outcome: { data: unknown } | { error: unknown }): WsRouteResult {
  const body = JSON.stringify({ id, ...(action ? { action } : {}), ...outcome });
  const bytes = Buffer.byteLength(body);
  // API Gateway does not deliver a route response over its message limit: the client would wait in vain.
  if (bytes > MAX_WS_MESSAGE_BYTES) {
    log.error('reply over the WebSocket message limit', { action: action?.slice(0, 64), bytes });
    const error = new CirrusError('REPLY_TOO_LARGE', `The reply would be ${bytes} bytes, over the ${MAX_WS_MESSAGE_BYTES} bytes of one WebSocket message`).toWire();
    const answer = JSON.stringify({ id, ...(action ? { action } : {}), error });
    // The echoed id and action are the client's own and may be most of the size: then without them.
    return { statusCode: 200, body: Buffer.byteLength(answer) <= MAX_WS_MESSAGE_BYTES ? answer : JSON.stringify({ id: null, error }) };
  }
  return { statusCode: 200, body };
}

function describeIssue(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return err.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** A refused message, counted by reason (`MessagesRefused`); other actions' refusals are not counted. */
function refusedSend(action: string | undefined, reason: string): void {
  if (action === 'sendMsg') count('MessagesRefused', 1, { reason });
}

export function wsMessageHandler(handlers: ActionHandlers) {
  return observed(
    'wsMessage',
    async (event: WsRouteEvent): Promise<WsRouteResult> => {
      let raw: unknown;
      try {
        const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
        raw = JSON.parse(text);
      } catch {
        return reply(null, undefined, { error: new CirrusError('MALFORMED_FRAME', 'The frame is not valid JSON').toWire() });
      }
      const frame = RequestFrame.safeParse(raw);
      const rawId = typeof (raw as { id?: unknown })?.id === 'string' ? ((raw as { id: string }).id as string) : null;
      if (!frame.success) {
        return reply(rawId, undefined, { error: new CirrusError('MALFORMED_FRAME', `Invalid frame: ${describeIssue(frame.error)}`).toWire() });
      }
      const { id, action } = frame.data;
      if (!Object.hasOwn(actionRequests, action)) {
        return reply(id, action, { error: new CirrusError('UNKNOWN_ACTION', `Unknown action "${action}"; expected one of ${Object.keys(actionRequests).join(', ')}`).toWire() });
      }
      const name = action as ActionName;
      const refused = findRefusedString(frame.data.data);
      if (refused) {
        refusedSend(action, 'INVALID_ARGUMENT');
        return reply(id, action, { error: new CirrusError('INVALID_ARGUMENT', refused.path ? `${refused.path}: ${refused.problem}` : refused.problem).toWire() });
      }
      const data = actionRequests[name].safeParse(frame.data.data ?? {});
      if (!data.success) {
        refusedSend(action, 'INVALID_ARGUMENT');
        return reply(id, action, { error: new CirrusError('INVALID_ARGUMENT', describeIssue(data.error)).toWire() });
      }
      try {
        const identity = identityOf(event);
        const result = await handlers[name](identity, data.data as never);
        return reply(id, action, { data: result });
      } catch (err) {
        const wire = toWireError(err);
        if (wire.reason === 'INTERNAL' || wire.reason === 'UNAVAILABLE') log.error('action failed', { action, err });
        refusedSend(action, wire.reason);
        return reply(id, action, { error: wire });
      }
    },
    (event) => ({ correlationId: event.requestContext.requestId ?? newId(), connectionId: event.requestContext.connectionId }),
  );
}
