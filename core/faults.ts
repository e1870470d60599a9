/**
 * Named points on the message path where tests inject a crash. In production nothing
 * is ever armed and a fault point costs one Map lookup. Tests arm a point with a
 * function that throws, exactly as a Lambda timeout or crash would stop the work there.
 */
export type FaultPoint =
  /** sendMsg: after the seq was allocated, before the idempotency record and message are written. */
  | 'send.afterAllocate'
  /** sendMsg: after the idempotency record, before the message is written. */
  | 'send.afterClaim'
  /** sendMsg: after the message is written, before the push (and the own position and archive hand-over). */
  | 'send.afterWrite'
  /** sendMsg: after the push (posted, or handed to push invocations), before the ack. */
  | 'send.afterPush'
  /** push: after posting to a slice's connections, before the invocation returns. */
  | 'push.afterPost'
  /** archive: after the rows were inserted, before the batch returns. */
  | 'archive.afterInsert'
  /** webhook: after the callbacks were POSTed, before the batch returns. */
  | 'webhook.afterPost'
  /** batch page: after one recipient's message was sent (details: batchId, page, index), before the page is done. */
  | 'batch.afterSend'
  /** eraseUser: after one of the user's messages was deleted for everyone (details: conversationId, seq), before the rest. */
  | 'erase.afterMessage'
  /** userData: an export's records were gathered (details: userId, exportId), before its archive is stored. */
  | 'export.beforeStore'
  /** Any asynchronous invocation (details: function, payload), before Lambda is asked: a throw is Lambda's refusal. */
  | 'invoke.beforeSend'
  /** Any PostToConnection (details: connectionId), before API Gateway is asked: a throw is API Gateway's error. */
  | 'connections.beforePost';

type Trigger = (details: Record<string, unknown>) => void;
const armed = new Map<FaultPoint, Trigger>();

export function faultPoint(point: FaultPoint, details: Record<string, unknown> = {}): void {
  armed.get(point)?.(details);
}

export const faults = {
  /** Arms a point; the trigger throws to crash the work, or returns to let it continue. */
  arm(point: FaultPoint, trigger: Trigger): void {
    armed.set(point, trigger);
  },
  /** Arms a point to crash the next `times` passes (default once). */
  crash(point: FaultPoint, times = 1): void {
    let left = times;
    armed.set(point, () => {
      if (left <= 0) return;
      left -= 1;
      throw new Error(`Injected fault at ${point}`);
    });
  },
  disarm(point: FaultPoint): void {
    armed.delete(point);
  },
  clear(): void {
    armed.clear();
  },
};
