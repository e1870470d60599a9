/**
 * Checks of the manifest (core/manifest.ts) against AWS rules that CloudFormation would
 * only report at deploy time, or never: a wrong number here loses or duplicates work
 * silently in production. Pure functions over the specs, so they are tested on their own.
 */
import { tableWriteActions, type FunctionSpec, type QueueSpec, type TableKey } from '../core/manifest';

/**
 * The table holding each conversation's seq counter: a function that may write it may
 * allocate seqs.
 */
const seqCounterTable: TableKey = 'conversations';

/**
 * The function whose timeout bounds how long an allocated seq can stay without its
 * message: the slowest of those that may write the seq counter table.
 */
export function longestSeqAllocation(functionSpecs: Readonly<Record<string, FunctionSpec>>): FunctionSpec {
  const allocators = Object.values(functionSpecs).filter((spec) => {
    const actions = spec.tables[seqCounterTable] ?? [];
    return actions.some((action) => tableWriteActions.includes(action));
  });
  if (allocators.length === 0) {
    throw new Error(`No function in the manifest may write the ${seqCounterTable} table, so none can allocate seqs.`);
  }
  return allocators.reduce((slowest, spec) => (spec.timeoutSeconds > slowest.timeoutSeconds ? spec : slowest));
}

/**
 * AWS asks for a queue visibility timeout of at least six times the consumer's timeout:
 * the event source retries throttled invocations while the messages stay in flight, and
 * a shorter timeout hands the same batch to a second invocation while the first still runs.
 */
export const visibilityTimeoutFactor = 6;

/** Throws when a queue's visibility timeout is too short for its consumer. */
export function assertConsumerVisibilityTimeouts(
  queueSpecs: Readonly<Record<string, QueueSpec>>,
  functionSpecs: Readonly<Record<string, FunctionSpec>>,
): void {
  for (const queue of Object.values(queueSpecs)) {
    const consumer = functionSpecs[queue.consumer];
    if (!consumer) {
      throw new Error(`The ${queue.name} queue's consumer "${queue.consumer}" is not a function in the manifest.`);
    }
    const required = visibilityTimeoutFactor * consumer.timeoutSeconds;
    if (queue.visibilityTimeoutSeconds < required) {
      throw new Error(
        `The ${queue.name} queue's visibility timeout (${queue.visibilityTimeoutSeconds} s) must be at least ` +
          `${visibilityTimeoutFactor} times the timeout of its consumer ${consumer.name} (${consumer.timeoutSeconds} s), ` +
          `that is ${required} s; change visibilityTimeoutSeconds or timeoutSeconds in core/manifest.ts.`,
      );
    }
  }
}
