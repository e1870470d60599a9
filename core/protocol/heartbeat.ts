/**
 * The heartbeat is answered by API Gateway itself, without a function: the `heartbeat` route
 * has a MOCK integration whose integration response renders the reply template below, passed
 * to the client as the route response. It costs the frame in and the reply out, and no Lambda
 * invocation.
 *
 * A MOCK integration reads only `statusCode` from its request template and returns no body,
 * so the reply template sees the request's `$context` and nothing of the frame: the reply
 * cannot echo the frame's `id` and carries `id: null`. `serverTime` is the time API Gateway
 * received the frame (`$context.requestTimeEpoch`, milliseconds). Every frame the route
 * selection sends to `heartbeat` (a JSON object whose `action` is "heartbeat") gets this reply,
 * whatever else it holds: nothing of the frame is read, so nothing in it can be malformed.
 *
 * The local gateway renders the very same template (`renderMockReply`), so it answers exactly
 * as API Gateway does.
 */

export interface MockReplySpec {
  /** Integration request template: a MOCK integration reads only the status code it gives. */
  readonly requestTemplate: string;
  /**
   * Integration response template (`$default`): the reply frame. Only `$context.<name>`
   * references are allowed, so that the local gateway renders it exactly.
   */
  readonly responseTemplate: string;
}

export const heartbeatReply: MockReplySpec = {
  requestTemplate: '{"statusCode": 200}',
  responseTemplate: '{"id":null,"action":"heartbeat","data":{"serverTime":$context.requestTimeEpoch}}',
};

/** Every `$`, `#` or `\` of a template: a variable reference, a directive or an escape. */
const VTL_SYNTAX = /\$context\.([A-Za-z]+)|[$#\\]/g;

/**
 * Renders a reply template the way API Gateway's Velocity engine does for the subset allowed
 * here (plain text and `$context.<name>` references); throws on anything else, so a template
 * the local gateway cannot render exactly is refused rather than answered differently.
 */
export function renderMockReply(template: string, context: Readonly<Record<string, string | number>>): string {
  return template.replace(VTL_SYNTAX, (match, name: string | undefined) => {
    if (name === undefined) throw new Error(`mock reply template: "${match}" is outside the subset the local gateway renders`);
    const value = context[name];
    if (value === undefined) throw new Error(`mock reply template: $context.${name} is not provided`);
    return String(value);
  });
}
