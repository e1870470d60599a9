/**
 * The notify function signs VAPID tokens with jose (as it signs the APNs and FCM tokens) and
 * encrypts Web Push payloads with node:crypto (RFC 8291): its bundle carries no `web-push`, nor
 * the ASN.1 and big-number libraries that library converts keys with. That the messages still
 * verify and decrypt is test/local/push-standins.test.ts's (the stand-in decrypts with http_ece).
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, projectRoot } from '../../lib/bundling';
import { packageOf } from '../../bench/suites/cold-start';
import { functions } from '../../core/manifest';

describe("The notify function's bundle", () => {
  it('should carry jose and none of web-push, asn1.js, bn.js, jws', async () => {
    const result = await build({ ...esbuildOptions(functions.notify.entry, join(projectRoot, 'out.mjs')), write: false, metafile: true, logLevel: 'silent' });
    const packages = new Set(Object.keys(result.metafile.inputs).map(packageOf));
    expect(packages).toContain('jose');
    for (const pkg of ['web-push', 'asn1.js', 'bn.js', 'jws', 'jwa', 'http_ece']) expect(packages, pkg).not.toContain(pkg);
  }, 60_000);
});
