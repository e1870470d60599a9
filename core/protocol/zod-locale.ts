/**
 * zod/mini carries no error messages of its own (every issue reads "Invalid input") until a
 * locale is configured. The English one gives the messages Cirrus answers bad input with
 * (INVALID_ARGUMENT "clientMsgId: Too small: expected string to have >=1 characters"), as
 * classic zod did. Imported for this effect by every module that validates with a schema, and
 * by nothing else: a bundle that never validates carries no zod.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';

z.config(en());
