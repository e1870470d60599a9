/**
 * The names of the environment variables that carry a resource's name to the functions,
 * by convention from the manifest's keys (`groupMembers` → `TABLE_GROUP_MEMBERS`). The
 * manifest (core/manifest.ts) states each name and test/unit/manifest.test.ts holds it to
 * this convention; the handlers derive the name here, so that no function bundles the
 * whole manifest to read one variable.
 */
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** `TABLE_<KEY>`: the table's name. */
export const tableEnvVar = (table: string): string => `TABLE_${snake(table)}`;
/** `QUEUE_<KEY>_URL`: the queue's URL (`deadLetters` included). */
export const queueEnvVar = (queue: string): string => `QUEUE_${snake(queue)}_URL`;
/** `FUNCTION_<KEY>_NAME`: the name of a function invoked asynchronously. */
export const functionEnvVar = (fn: string): string => `FUNCTION_${snake(fn)}_NAME`;

/** Defaults of the fan-out settings, the same for the stack (lib/cirrus-im-props.ts), the handlers and the local runtime. */
export const fanOutDefaults = {
  /** Fan-outs up to this many recipients are posted by the accepting function (about one round of parallel posts). */
  inlinePushMax: 50,
  /** Groups with at least this many members keep an online index (GroupOnline). */
  onlineIndexMinMembers: 100,
} as const;
