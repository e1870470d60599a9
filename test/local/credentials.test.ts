/**
 * The local runtime runs the functions' sources, not their bundles; it resolves the AWS
 * SDK's default credential chain to the module the bundles alias it to (lib/bundling.ts),
 * so the handlers sign with the environment's credentials, as in Lambda.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import '../../local/credentials';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('The AWS SDK credential provider in the local runtime', () => {
  it("should be the environment's, as bundled, even with a profile set", async () => {
    // A client resolves it with require, from its own directory.
    const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'));
    const { defaultProvider } = requireFromClient('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
    process.env.AWS_ACCESS_KEY_ID = 'local-key';
    process.env.AWS_SECRET_ACCESS_KEY = 'local-secret';
    process.env.AWS_SESSION_TOKEN = 'local-token';
    // The default chain would skip the environment for a profile, and fail to find it.
    process.env.AWS_PROFILE = 'cirrus-no-such-profile';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    const credentials = await defaultProvider({})();
    expect(credentials).toMatchObject({ accessKeyId: 'local-key', secretAccessKey: 'local-secret', sessionToken: 'local-token' });
  });

  it('should refuse to sign without credentials in the environment', async () => {
    const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'));
    const { defaultProvider } = requireFromClient('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(defaultProvider({})()).rejects.toThrow(/environment variable credentials/);
  });
});
