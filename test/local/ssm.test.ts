import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  GetParameterCommand,
  GetParametersCommand,
  HierarchyLevelLimitExceededException,
  HierarchyTypeMismatchException,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { LocalSsm, MAX_STANDARD_VALUE_CHARS } from '../../local/aws/ssm';
import { clientConfig, mount, type Mounted } from './mount';

const credentials = { local: 'local' };

/** The error a request fails with (its name and message), or 'ok'. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; type?: unknown } | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message, type: (err as object).constructor };
  }
}

describe('LocalSsm over the Parameter Store JSON protocol', () => {
  let dir: string;
  let ssm: LocalSsm;
  let server: Mounted;
  let client: SSMClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cirrus-ssm-'));
    ssm = new LocalSsm({ credentials, file: join(dir, 'ssm.json') });
    server = await mount([ssm]);
    client = new SSMClient(clientConfig(server.url));
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    await ssm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a SecureString and returns it decrypted only WithDecryption', async () => {
    // Act
    const put = await client.send(new PutParameterCommand({ Name: '/cirrus/t/key', Value: 'k3y', Type: 'SecureString' }));
    const plain = await client.send(new GetParameterCommand({ Name: '/cirrus/t/key', WithDecryption: true }));
    const cipher = await client.send(new GetParameterCommand({ Name: '/cirrus/t/key' }));
    const byArn = await client.send(new GetParameterCommand({ Name: ssm.arnOf('/cirrus/t/key'), WithDecryption: true }));

    // Assess
    expect(put).toMatchObject({ Version: 1, Tier: 'Standard' });
    expect(plain.Parameter).toMatchObject({ Name: '/cirrus/t/key', Type: 'SecureString', Value: 'k3y', Version: 1, ARN: 'arn:aws:ssm:us-east-1:000000000000:parameter/cirrus/t/key' });
    expect(plain.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(cipher.Parameter?.Value).not.toBe('k3y');
    expect(cipher.Parameter?.Value).not.toContain('k3y');
    expect(byArn.Parameter?.Value).toBe('k3y');
  });

  it('refuses to replace a parameter without Overwrite, and replaces it with a new version with it', async () => {
    // Prepare
    await client.send(new PutParameterCommand({ Name: '/cirrus/t/ow', Value: 'one', Type: 'SecureString' }));

    // Act
    const without = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/ow', Value: 'two', Type: 'SecureString' })));
    const afterRefusal = await client.send(new GetParameterCommand({ Name: '/cirrus/t/ow', WithDecryption: true }));
    const overwritten = await client.send(new PutParameterCommand({ Name: '/cirrus/t/ow', Value: 'two', Overwrite: true }));
    const retyped = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/ow', Value: 'three', Type: 'String', Overwrite: true })));
    const now = await client.send(new GetParameterCommand({ Name: '/cirrus/t/ow', WithDecryption: true }));

    // Assess
    expect(without).toMatchObject({ name: 'ParameterAlreadyExists', type: ParameterAlreadyExists });
    expect(afterRefusal.Parameter).toMatchObject({ Value: 'one', Version: 1 });
    expect(overwritten.Version).toBe(2);
    expect(retyped).toMatchObject({ name: 'HierarchyTypeMismatchException', type: HierarchyTypeMismatchException });
    expect(now.Parameter).toMatchObject({ Value: 'two', Version: 2, Type: 'SecureString' });
  });

  it('answers ParameterNotFound for a missing parameter, and GetParameters lists it as invalid', async () => {
    // Act
    const get = await failure(client.send(new GetParameterCommand({ Name: '/cirrus/t/missing', WithDecryption: true })));
    const del = await failure(client.send(new DeleteParameterCommand({ Name: '/cirrus/t/missing' })));
    const many = await client.send(new GetParametersCommand({ Names: ['/cirrus/t/key', '/cirrus/t/missing'], WithDecryption: true }));

    // Assess
    expect(get).toMatchObject({ name: 'ParameterNotFound', type: ParameterNotFound });
    expect(del).toMatchObject({ name: 'ParameterNotFound', type: ParameterNotFound });
    expect(many.Parameters?.map((p) => [p.Name, p.Value])).toEqual([['/cirrus/t/key', 'k3y']]);
    expect(many.InvalidParameters).toEqual(['/cirrus/t/missing']);
  });

  it('keeps to the standard tier: a value of 4096 characters is taken, one more is refused', async () => {
    // Act
    const atLimit = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/big', Value: 'x'.repeat(MAX_STANDARD_VALUE_CHARS), Type: 'SecureString' })));
    const over = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/bigger', Value: 'x'.repeat(MAX_STANDARD_VALUE_CHARS + 1), Type: 'SecureString' })));
    const advanced = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/adv', Value: 'x', Type: 'SecureString', Tier: 'Advanced' })));
    const empty = await failure(client.send(new PutParameterCommand({ Name: '/cirrus/t/empty', Value: '', Type: 'SecureString' })));
    const missing = await failure(client.send(new GetParameterCommand({ Name: '/cirrus/t/bigger' })));

    // Assess
    expect(MAX_STANDARD_VALUE_CHARS).toBe(4096);
    expect(atLimit).toBe('ok');
    expect(over).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('maximum parameter value of 4096 characters') });
    expect(advanced).toMatchObject({ name: 'ValidationException' });
    expect(empty).toMatchObject({ name: 'ValidationException' });
    expect(missing).toMatchObject({ name: 'ParameterNotFound' });
  });

  it('enforces the naming rules', async () => {
    // Prepare
    const put = (Name: string) => failure(client.send(new PutParameterCommand({ Name, Value: 'v', Type: 'SecureString' })));
    const deep = `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`;
    const fifteen = `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`;
    const long = `/cirrus/${'n'.repeat(1011 - 'arn:aws:ssm:us-east-1:000000000000:parameter/cirrus/'.length)}`;

    // Act
    const results = {
      space: await put('/cirrus/has space'),
      star: await put('/cirrus/a*b'),
      awsPrefix: await put('/aws/thing'),
      ssmPrefix: await put('SSMthing'),
      noLeadingSlash: await put('cirrus/key'),
      emptyLevel: await put('/cirrus//key'),
      deep: await put(deep),
      fifteen: await put(fifteen),
      longest: await put(long),
      tooLong: await put(`${long}n`),
      plain: await put('plain-name_1.0'),
    };

    // Assess
    expect(results.space).toMatchObject({ name: 'ValidationException' });
    expect(results.star).toMatchObject({ name: 'ValidationException' });
    expect(results.awsPrefix).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('prefixed') });
    expect(results.ssmPrefix).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('prefixed') });
    expect(results.noLeadingSlash).toMatchObject({ name: 'ValidationException' });
    expect(results.emptyLevel).toMatchObject({ name: 'ValidationException' });
    expect(results.deep).toMatchObject({ name: 'HierarchyLevelLimitExceededException', type: HierarchyLevelLimitExceededException });
    expect(results.fifteen).toBe('ok');
    expect(results.longest).toBe('ok');
    expect(results.tooLong).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('1011') });
    expect(results.plain).toBe('ok');
  });

  it('deletes parameters one at a time and in tens', async () => {
    // Prepare
    for (const n of ['a', 'b', 'c']) await client.send(new PutParameterCommand({ Name: `/cirrus/del/${n}`, Value: n, Type: 'SecureString' }));

    // Act
    await client.send(new DeleteParameterCommand({ Name: '/cirrus/del/a' }));
    const batch = await client.send(new DeleteParametersCommand({ Names: ['/cirrus/del/b', '/cirrus/del/c', '/cirrus/del/a'] }));
    const tooMany = await failure(client.send(new DeleteParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/cirrus/del/${i}`) })));

    // Assess
    expect(batch.DeletedParameters).toEqual(['/cirrus/del/b', '/cirrus/del/c']);
    expect(batch.InvalidParameters).toEqual(['/cirrus/del/a']);
    expect(tooMany).toMatchObject({ name: 'ValidationException' });
    expect(ssm.valueOf('/cirrus/del/b')).toBeUndefined();
  });

  it('refuses a request signed with unknown credentials or a wrong secret key, as Parameter Store does', async () => {
    // Prepare
    const stranger = new SSMClient({ ...clientConfig(server.url), credentials: { accessKeyId: 'someone', secretAccessKey: 'local' } });
    const forger = new SSMClient({ ...clientConfig(server.url), credentials: { accessKeyId: 'local', secretAccessKey: 'guess' } });
    const elsewhere = new SSMClient({ ...clientConfig(server.url), region: 'eu-west-1' });

    // Act
    const unknown = await failure(stranger.send(new GetParameterCommand({ Name: '/cirrus/t/key', WithDecryption: true })));
    const forged = await failure(forger.send(new GetParameterCommand({ Name: '/cirrus/t/key', WithDecryption: true })));
    const wrongRegion = await failure(elsewhere.send(new GetParameterCommand({ Name: '/cirrus/t/key', WithDecryption: true })));
    const unsigned = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: '/cirrus/t/key', WithDecryption: true }),
    });
    [stranger, forger, elsewhere].forEach((c) => c.destroy());

    // Assess
    expect(unknown).toMatchObject({ name: 'UnrecognizedClientException', type: SSMServiceException });
    expect(forged).toMatchObject({ name: 'InvalidSignatureException' });
    expect(wrongRegion).toMatchObject({ name: 'IncompleteSignatureException' });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.text()).not.toContain('k3y');
  });

  it('keeps the parameters, with their versions, across a restart, in a file only its owner reads', async () => {
    // Prepare
    await client.send(new PutParameterCommand({ Name: '/cirrus/t/kept', Value: 'v1', Type: 'SecureString' }));
    await client.send(new PutParameterCommand({ Name: '/cirrus/t/kept', Value: 'v2', Overwrite: true }));

    // Act
    const again = new LocalSsm({ credentials, file: join(dir, 'ssm.json') });
    const mounted = await mount([again]);
    const c = new SSMClient(clientConfig(mounted.url));
    const out = await c.send(new GetParameterCommand({ Name: '/cirrus/t/kept', WithDecryption: true }));
    c.destroy();
    await mounted.close();

    // Assess
    expect(out.Parameter).toMatchObject({ Value: 'v2', Version: 2, Type: 'SecureString' });
    expect(statSync(join(dir, 'ssm.json')).mode & 0o077).toBe(0);
  });
});
