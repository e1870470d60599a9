/**
 * Strings Cirrus refuses anywhere in a request: their characters would not survive the
 * stores unchanged, so two different values could become one key, or the offline store
 * and the history could disagree.
 *
 * - A lone UTF-16 surrogate (`"\ud800"` in JSON) is not Unicode: DynamoDB and PostgreSQL
 *   store text as UTF-8, which cannot encode it, so it is replaced or refused on the way.
 *   Two client message ids differing only there would name the same idempotency record.
 * - U+0000 (NUL): PostgreSQL text and jsonb cannot hold it, so the history could not keep
 *   what the offline store keeps.
 *
 * Both are refused with INVALID_ARGUMENT naming the field, in every string and object
 * key of a WebSocket frame's `data` and of an HTTP request's path, query and body (and in
 * an app backend's modifications), before anything is read or written.
 */

/** Matches a surrogate that is not half of a pair (in `u` mode pairs are one code point), or NUL. */
const REFUSED = /[\uD800-\uDFFF\u0000]/u;

/** Why Cirrus refuses this string, or undefined when it is accepted. */
export function stringProblem(s: string): string | undefined {
  const m = REFUSED.exec(s);
  if (!m) return undefined;
  if (m[0] === '\u0000') return 'contains U+0000 (NUL), which Cirrus does not accept in any string';
  return `is not well-formed Unicode: it contains a lone UTF-16 surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()})`;
}

/** Whether a string is accepted: the same check, for zod refinements. */
export const isAcceptedString = (s: string): boolean => !REFUSED.test(s);

/** A value on the walk, with how it was reached (the path is built only for a refusal). */
interface Step {
  value: unknown;
  key?: string;
  parent?: Step;
}

const pathOf = (step: Step | undefined): string => {
  const keys: string[] = [];
  for (let s = step; s && s.key !== undefined; s = s.parent) keys.push(s.key);
  const path = keys.reverse().join('.');
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
};

/**
 * The first refused string (or object key) in a JSON value, with its path (`content.text`,
 * `users.0.nickname`); undefined when every string is accepted. Iterative and linear in
 * the size of the value, so a deeply nested value cannot exhaust the stack or the CPU.
 */
export function findRefusedString(value: unknown): { path: string; problem: string } | undefined {
  const stack: Step[] = [{ value }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    const v = step.value;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { path: pathOf(step), problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: String(i), parent: step });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (const [key] of entries) {
        const problem = stringProblem(key);
        if (problem) return { path: pathOf(step), problem: `an object key ${problem}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], key: entries[i][0], parent: step });
    }
  }
  return undefined;
}
