import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager } from '../../local/aws/secrets';
import { clientConfig, mount, type Mounted } from './mount';

describe('LocalSecretsManager over the Secrets Manager JSON protocol', () => {
  let secrets: LocalSecretsManager;
  let server: Mounted;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    secrets = new LocalSecretsManager({ 'cirrus/signing-key': 'k3y', 'cirrus/admin-secret': 's3cret' });
    server = await mount([secrets]);
    client = new SecretsManagerClient(clientConfig(server.url));
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    await secrets.close();
  });

  it('returns a secret value by name', async () => {
    // Act
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'cirrus/signing-key' }));

    // Assess
    expect(out).toMatchObject({ Name: 'cirrus/signing-key', SecretString: 'k3y', VersionStages: ['AWSCURRENT'], ARN: secrets.arnOf('cirrus/signing-key') });
    expect(out.CreatedDate).toBeInstanceOf(Date);
  });

  it('returns a secret value by full and by partial ARN', async () => {
    // Prepare
    const arn = secrets.arnOf('cirrus/admin-secret');

    // Act
    const full = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    const partial = await client.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) }));

    // Assess
    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:cirrus\/admin-secret-[A-Za-z]{6}$/);
    expect(full.SecretString).toBe('s3cret');
    expect(partial.SecretString).toBe('s3cret');
  });

  it('gives a secret the same ARN in every instance, so ARNs survive restarts', () => {
    // Act
    const again = new LocalSecretsManager({ 'cirrus/admin-secret': 'other value' });

    // Assess
    expect(again.arnOf('cirrus/admin-secret')).toBe(secrets.arnOf('cirrus/admin-secret'));
  });

  it('describes and lists secrets without their values', async () => {
    // Act
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'cirrus/signing-key' }));
    const listed = await client.send(new ListSecretsCommand({}));

    // Assess
    expect(described.Name).toBe('cirrus/signing-key');
    expect(Object.values(described.VersionIdsToStages!)).toEqual([['AWSCURRENT']]);
    expect(listed.SecretList!.map((s) => s.Name).sort()).toEqual(['cirrus/admin-secret', 'cirrus/signing-key']);
    expect(JSON.stringify(listed)).not.toContain('s3cret');
  });

  it('fails with ResourceNotFoundException for an unknown name or ARN', async () => {
    // Act
    const byName = client.send(new GetSecretValueCommand({ SecretId: 'nope' }));
    const byArn = client.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbCdEf' }));
    const byStage = client.send(new GetSecretValueCommand({ SecretId: 'cirrus/signing-key', VersionStage: 'AWSPREVIOUS' }));

    // Assess
    await expect(byName).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(byArn).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(byStage).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
  });

  it('rotates a secret with PutSecretValue: the new value is AWSCURRENT, the old one AWSPREVIOUS, and the owner is told', async () => {
    // Prepare
    const changes: [string, string][] = [];
    const rotating = new LocalSecretsManager({ 'cirrus/signing-key': 'old' }, { onChange: (name, value) => changes.push([name, value]) });
    const rotatingServer = await mount([rotating]);
    const rotatingClient = new SecretsManagerClient(clientConfig(rotatingServer.url));

    // Act
    const put = await rotatingClient.send(new PutSecretValueCommand({ SecretId: rotating.arnOf('cirrus/signing-key'), SecretString: 'new' }));
    const again = await rotatingClient.send(new PutSecretValueCommand({ SecretId: 'cirrus/signing-key', SecretString: 'new', ClientRequestToken: put.VersionId }));
    const current = await rotatingClient.send(new GetSecretValueCommand({ SecretId: 'cirrus/signing-key' }));
    const previous = await rotatingClient.send(new GetSecretValueCommand({ SecretId: 'cirrus/signing-key', VersionStage: 'AWSPREVIOUS' }));
    const empty = await rotatingClient.send(new PutSecretValueCommand({ SecretId: 'cirrus/signing-key', SecretString: '' })).catch((e: unknown) => e);
    const unknown = await rotatingClient.send(new PutSecretValueCommand({ SecretId: 'nope', SecretString: 'x' })).catch((e: unknown) => e);
    rotatingClient.destroy();
    await rotatingServer.close();

    // Assess
    expect(again.VersionId).toBe(put.VersionId);
    expect(current).toMatchObject({ SecretString: 'new', VersionId: put.VersionId, VersionStages: ['AWSCURRENT'] });
    expect(previous).toMatchObject({ SecretString: 'old', VersionStages: ['AWSPREVIOUS'] });
    expect(changes).toEqual([['cirrus/signing-key', 'new']]);
    expect((empty as Error).name).toBe('InvalidParameterException');
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });
});
