/**
 * Before-callbacks: the app backend's say on an action before Cirrus carries it out. Each
 * is one signed POST bounded by the timeout, answered with
 *   `{ "action": "allow" }`,
 *   `{ "action": "refuse", "code": 10000-19999, "message"?: string }` or
 *   `{ "action": "modify", ...fields }` (the fields the callback lets the app change).
 * A refusal throws REFUSED_BY_APP with the app's code; a failure (timeout, network error,
 * non-2xx, malformed answer, invalid modification) is judged by the callback's failure
 * policy: `open` lets the action proceed unchanged, `closed` throws APP_UNAVAILABLE.
 */
import * as z from 'zod/mini';
import { config } from '../config';
import { CirrusError } from '../errors';
import { log } from '../log';
import { count } from '../metrics';
import { findRefusedString } from '../protocol/strings';
import { deliveryId, postCallback } from './client';
import { passesFilters, type BeforeCallback, type Involved } from './settings';
import '../protocol/zod-locale';

const Verdict = z.discriminatedUnion('action', [
  z.object({ action: z.literal('allow') }),
  z.object({ action: z.literal('refuse'), code: z.int().check(z.gte(10000), z.lte(19999)), message: z.optional(z.string().check(z.maxLength(1000))) }),
  z.looseObject({ action: z.literal('modify') }),
]);

export interface BeforeCall<S extends z.ZodMiniType, R> {
  /** What the event involves, for the callback's filters. */
  involved: Involved;
  /** The parts the delivery id is derived from: stable across the caller's retries of one action. */
  idParts: readonly (string | number)[];
  /** The fields of a `modify` answer (without `action`); anything else makes it invalid. */
  modify: S;
  /**
   * Turns a valid modification into what the caller uses; may throw to declare it
   * invalid (then it counts as a failure of the backend).
   */
  apply?: (modification: z.infer<S>) => R;
  /** Named in the refusal's message when the app gives none. */
  what: string;
  /**
   * Epoch ms by which the caller must be done asking (a request asking about many items):
   * a call that could not be answered by then is not made and counts as a failure.
   */
  deadline?: number;
}

/**
 * Makes the before-callback `name` when it is enabled and its filters match. Resolves with
 * undefined to proceed unchanged (allowed, not made, or a failure under the open policy),
 * or with the applied modification; throws REFUSED_BY_APP or APP_UNAVAILABLE.
 */
export async function callBefore<S extends z.ZodMiniType, R = z.infer<S>>(name: BeforeCallback, data: unknown, call: BeforeCall<S, R>): Promise<R | undefined> {
  const callback = config.webhookCallback(name);
  if (!callback || !passesFilters(callback, call.involved)) return undefined;
  const id = deliveryId(name, ...call.idParts);
  let failure: string;
  if (call.deadline !== undefined && Date.now() + callback.timeoutMs > call.deadline) {
    failure = 'no time left in this request to wait for an answer';
  } else {
    try {
      const answer = await postCallback(name, id, data, callback);
      if (answer.status >= 200 && answer.status < 300) {
        const verdict = Verdict.safeParse(safeJson(answer.body));
        if (!verdict.success) failure = 'malformed answer';
        else if (verdict.data.action === 'allow') return undefined;
        else if (verdict.data.action === 'refuse') {
          throw new CirrusError('REFUSED_BY_APP', verdict.data.message ?? `The app refused ${call.what}`, { appCode: verdict.data.code });
        } else {
          const { action: _action, ...fields } = verdict.data;
          const modification = call.modify.safeParse(fields);
          const refused = findRefusedString(fields);
          if (refused) failure = `invalid modification: ${refused.path || '(answer)'}: ${refused.problem}`;
          else if (!modification.success) failure = `invalid modification: ${modification.error.issues.map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`).join('; ')}`;
          else {
            try {
              return call.apply ? call.apply(modification.data) : (modification.data as R);
            } catch (err) {
              failure = `invalid modification: ${(err as Error).message}`;
            }
          }
        }
      } else failure = `HTTP ${answer.status}`;
    } catch (err) {
      if (err instanceof CirrusError) throw err;
      const errName = (err as Error).name;
      failure = errName === 'TimeoutError' || errName === 'AbortError' ? `no answer within ${callback.timeoutMs} ms` : `request failed: ${(err as Error).message}`;
    }
  }
  const policy = callback.failurePolicy ?? 'open';
  log.warn(`${name} webhook failed`, { failure, policy, deliveryId: id });
  count('WebhookBeforeFailed', 1, { callback: name });
  if (policy === 'closed') throw new CirrusError('APP_UNAVAILABLE', `The app backend did not answer ${name} usably (${failure}); retry later`);
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
