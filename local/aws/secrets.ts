/**
 * A read-only Secrets Manager over its AWS JSON 1.1 protocol: the secrets are fixed at
 * construction (the local runtime generates them), and functions read them with the real
 * `@aws-sdk/client-secrets-manager` by name, full ARN or partial ARN (without the
 * six-character suffix), as on AWS.
 */
import { createHash } from 'node:crypto';
import { jsonResponse, jsonRpcError, parseJsonBody, targetOperation } from './responses';
import type { StandIn, StandInRequest, StandInResponse } from './types';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';

interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly value: string;
  readonly versionId: string;
  readonly createdAt: number;
}

export interface LocalSecretsManagerOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
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

  constructor(secrets: Readonly<Record<string, string>>, options: LocalSecretsManagerOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    const now = Math.floor(Date.now() / 1000);
    for (const [name, value] of Object.entries(secrets)) {
      this.byName.set(name, { name, value, arn: this.arnFor(name), versionId: versionIdOf(name, value), createdAt: now });
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
        // Only the current version exists locally; asking for any other is asking for one that does not.
        const stage = input.VersionStage;
        const version = input.VersionId;
        if ((stage !== undefined && stage !== 'AWSCURRENT') || (version !== undefined && version !== secret.versionId)) return notFound();
        return jsonResponse(
          { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, SecretString: secret.value, VersionStages: ['AWSCURRENT'], CreatedDate: secret.createdAt },
          CONTENT_TYPE,
        );
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
          { status: 400, type: 'InvalidRequestException', message: `The local Secrets Manager is read-only and does not support ${operation}.` },
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
      LastChangedDate: secret.createdAt,
      VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
    };
  }
}
