/**
 * A Secrets Manager over its AWS JSON 1.1 protocol: the secrets are named at construction
 * (the local runtime generates them), functions read them with the real
 * `@aws-sdk/client-secrets-manager` by name, full ARN or partial ARN (without the
 * six-character suffix), as on AWS, and an operator rotates one with `PutSecretValue`
 * (a SecretString): the new version becomes AWSCURRENT and the one before AWSPREVIOUS.
 * Not emulated: creating and deleting secrets, SecretBinary, custom staging labels and
 * rotation Lambdas.
 */
import { createHash, randomUUID } from 'node:crypto';
import { jsonResponse, jsonRpcError, parseJsonBody, targetOperation } from './responses';
import type { StandIn, StandInRequest, StandInResponse } from './types';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';

interface Version {
  readonly value: string;
  readonly versionId: string;
  readonly createdAt: number;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  current: Version;
  previous?: Version;
  changedAt: number;
}

export interface LocalSecretsManagerOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Called after `PutSecretValue` made a new current value (the local runtime saves it). */
  readonly onChange?: (name: string, value: string) => void;
}

/** Derived from the name, so a secret's ARN (which functions get in their environment) is the same after a restart. */
function suffixOf(name: string): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const hash = createHash('sha256').update(name).digest();
  return Array.from(hash.subarray(0, 6), (b) => letters[b % letters.length]).join('');
}

function versionIdOf(name: string, value: string): string {
  const hex = createHash('sha256').update(`${name}\n${value}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const notFound = () =>
  jsonRpcError({ status: 400, type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }, CONTENT_TYPE);

export class LocalSecretsManager implements StandIn {
  private readonly byName = new Map<string, Secret>();
  private readonly region: string;

  constructor(
    secrets: Readonly<Record<string, string>>,
    private readonly options: LocalSecretsManagerOptions = {},
  ) {
    this.region = options.region ?? 'us-east-1';
    const now = Math.floor(Date.now() / 1000);
    for (const [name, value] of Object.entries(secrets)) {
      this.byName.set(name, { name, arn: this.arnFor(name), createdAt: now, changedAt: now, current: { value, versionId: versionIdOf(name, value), createdAt: now } });
    }
  }

  /** The full ARN of a secret, e.g. `arn:aws:secretsmanager:us-east-1:000000000000:secret:cirrus/admin-AbCdEf`. */
  arnOf(name: string): string {
    const secret = this.byName.get(name);
    if (!secret) throw new Error(`No local secret named ${name}`);
    return secret.arn;
  }

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const operation = targetOperation(req, 'secretsmanager');
    if (operation === undefined) return undefined;
    const input = parseJsonBody(req.body);
    if (!input) return jsonRpcError({ status: 400, type: 'SerializationException', message: 'Malformed JSON request body.' }, CONTENT_TYPE);
    switch (operation) {
      case 'GetSecretValue': {
        const secret = this.find(input.SecretId);
        if (!secret) return notFound();
        const stage = input.VersionStage;
        const versionId = input.VersionId;
        const versions: [Version, string][] = [[secret.current, 'AWSCURRENT'], ...(secret.previous ? [[secret.previous, 'AWSPREVIOUS'] as [Version, string]] : [])];
        const found = versions.find(([v, s]) => (stage === undefined || stage === s) && (versionId === undefined || versionId === v.versionId));
        // Absent a stage or version, the current one; asking for any other that does not exist is asking for nothing.
        if (!found) return notFound();
        const [version, label] = found;
        return jsonResponse(
          { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, SecretString: version.value, VersionStages: [label], CreatedDate: version.createdAt },
          CONTENT_TYPE,
        );
      }
      case 'PutSecretValue': {
        const secret = this.find(input.SecretId);
        if (!secret) return notFound();
        if (typeof input.SecretString !== 'string' || input.SecretString === '') {
          return jsonRpcError({ status: 400, type: 'InvalidParameterException', message: 'The local Secrets Manager takes a non-empty SecretString only.' }, CONTENT_TYPE);
        }
        if (Buffer.byteLength(input.SecretString) > 65_536) {
          return jsonRpcError({ status: 400, type: 'InvalidParameterException', message: 'SecretString must be at most 65536 bytes.' }, CONTENT_TYPE);
        }
        const value = input.SecretString;
        const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
        // The token is the version id: a retry with the same token and value changes nothing.
        if (token !== undefined && token === secret.current.versionId) {
          if (value !== secret.current.value) {
            return jsonRpcError({ status: 400, type: 'ResourceExistsException', message: `A version with VersionId ${token} already exists with different contents.` }, CONTENT_TYPE);
          }
        } else if (value !== secret.current.value || token !== undefined) {
          const now = Math.floor(Date.now() / 1000);
          secret.previous = secret.current;
          secret.current = { value, versionId: token ?? randomUUID(), createdAt: now };
          secret.changedAt = now;
          this.options.onChange?.(secret.name, value);
        }
        return jsonResponse({ ARN: secret.arn, Name: secret.name, VersionId: secret.current.versionId, VersionStages: ['AWSCURRENT'] }, CONTENT_TYPE);
      }
      case 'DescribeSecret': {
        const secret = this.find(input.SecretId);
        if (!secret) return notFound();
        return jsonResponse(this.describe(secret), CONTENT_TYPE);
      }
      case 'ListSecrets':
        return jsonResponse({ SecretList: [...this.byName.values()].map((s) => this.describe(s)) }, CONTENT_TYPE);
      default:
        return jsonRpcError(
          { status: 400, type: 'InvalidRequestException', message: `The local Secrets Manager does not support ${operation}.` },
          CONTENT_TYPE,
        );
    }
  }

  async close(): Promise<void> {}

  private arnFor(name: string): string {
    return `arn:aws:secretsmanager:${this.region}:${ACCOUNT_ID}:secret:${name}-${suffixOf(name)}`;
  }

  private find(id: unknown): Secret | undefined {
    if (typeof id !== 'string') return undefined;
    const prefix = `arn:aws:secretsmanager:${this.region}:${ACCOUNT_ID}:secret:`;
    if (!id.startsWith(prefix)) return this.byName.get(id);
    for (const secret of this.byName.values()) {
      if (id === secret.arn || id === `${prefix}${secret.name}`) return secret;
    }
    return undefined;
  }

  private describe(secret: Secret): Record<string, unknown> {
    return {
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: secret.createdAt,
      LastChangedDate: secret.changedAt,
      VersionIdsToStages: { [secret.current.versionId]: ['AWSCURRENT'], ...(secret.previous ? { [secret.previous.versionId]: ['AWSPREVIOUS'] } : {}) },
    };
  }
}
