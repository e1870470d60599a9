/**
 * Resolves `@aws-sdk/credential-provider-node` to core/aws/credentials.ts in this process,
 * as the stack's bundling aliases it in every function (lib/bundling.ts): the handlers run
 * locally get their credentials from the environment the runtime sets, through the same
 * module as in Lambda, whatever profile or SSO session the developer's shell holds.
 * Imported first by the runtime, before any AWS SDK client is loaded.
 */
import { registerHooks } from 'node:module';
import { credentialProviderAlias } from '../lib/bundling';

registerHooks({
  resolve(specifier, context, nextResolve) {
    const target = credentialProviderAlias[specifier as keyof typeof credentialProviderAlias];
    return nextResolve(target ? target.absolute : specifier, context);
  },
});
