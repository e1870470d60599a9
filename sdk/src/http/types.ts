/**
 * Input and output types of the HTTP API, derived from the route specs' zod schemas with
 * type-only imports: one source of truth, nothing of zod at run time.
 */
import type * as z from 'zod/mini';
import type { HttpRoute } from '../../../core/http/routes';

type Route<Op extends string> = Extract<HttpRoute, { operationId: Op }>;
type Schema<R, K extends string> = R extends { readonly [P in K]: infer S extends z.ZodMiniType } ? S : never;
type Flat<T> = { [K in keyof T]: T[K] } & {};
type HasRequired<T> = {} extends T ? false : true;

type ParamsOf<R> = [Schema<R, 'params'>] extends [never]
  ? {}
  : R extends { auth: 'self' }
    ? Omit<z.output<Schema<R, 'params'>>, 'userId'> extends infer P
      ? HasRequired<P> extends true
        ? { params: Flat<P & { userId?: string }> }
        : { params?: Flat<P & { userId?: string }> }
      : never
    : { params: z.output<Schema<R, 'params'>> };
type QueryOf<R> = [Schema<R, 'query'>] extends [never]
  ? {}
  : HasRequired<z.output<Schema<R, 'query'>>> extends true
    ? { query: z.output<Schema<R, 'query'>> }
    : { query?: z.output<Schema<R, 'query'>> };
type BodyOf<R> = [Schema<R, 'body'>] extends [never] ? {} : { body: z.input<Schema<R, 'body'>> };

/**
 * What a route takes: `params` (path; for routes of the signed-in user `userId` may be left
 * out), `query` and `body`, each present only when the route has it.
 */
export type ApiInput<Op extends HttpRoute['operationId']> = Flat<ParamsOf<Route<Op>> & QueryOf<Route<Op>> & BodyOf<Route<Op>>>;

/** What a route answers with (its 200 body). */
export type ApiOutput<Op extends HttpRoute['operationId']> = z.output<Route<Op>['response']>;
