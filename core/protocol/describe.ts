/**
 * What zod/mini leaves to functions: a schema's description (set with `z.describe`, kept in
 * zod's global registry) and whether an object field may be left out.
 */
import * as z from 'zod/mini';

/** The description a schema was given with `z.describe(...)`. */
export const descriptionOf = (schema: z.ZodMiniType): string | undefined => z.globalRegistry.get(schema)?.description;

/** Whether a field with this schema may be left out of its object (it accepts undefined: optional, with a default, or unknown). */
export const isOptional = (schema: z.ZodMiniType): boolean => schema.safeParse(undefined).success;
