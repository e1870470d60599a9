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

/**
 * The first refused string (or object key) in a JSON value, with its path (`content.text`,
 * `users.0.nickname`); undefined when every string is accepted. Iterative, so a deeply
 * nested value cannot exhaust the stack.
 */
export function findRefusedString(value: unknown): { path: string; problem: string } | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) return { path: path.join('.'), problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, String(i)] });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (const [key] of entries) {
        const problem = stringProblem(key);
        if (problem) return { path: path.join('.'), problem: `an object key ${problem}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i][1], path: [...path, entries[i][0]] });
    }
  }
  return undefined;
}
