/**
 * SSM Parameter Store over its AWS JSON 1.1 protocol (`AmazonSSM.<Operation>`), for the
 * parameters Cirrus keeps its secrets in: PutParameter, GetParameter, GetParameters,
 * DeleteParameter and DeleteParameters, each request SigV4-verified against the local
 * credentials. It enforces what Parameter Store enforces that Cirrus or an operator can
 * run into: the name rules (characters, no `aws`/`ssm` prefix, a leading `/` for a
 * hierarchy, at most 15 levels, at most 1011 characters with the ARN), the standard tier's
 * 4096-character value, `ParameterAlreadyExists` without `Overwrite`, no change of type,
 * `ParameterNotFound`. A SecureString read without `WithDecryption` returns an opaque
 * ciphertext, as on AWS. The parameters are saved to a file after every change, so a
 * restarted runtime keeps them.
 * Not emulated: advanced and intelligent tiers, labels, version selectors, policies,
 * paths (GetParametersByPath) and KMS keys other than the default.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { jsonResponse, jsonRpcError, parseJsonBody, targetOperation } from './responses';
import { SigV4Error, verifyServiceRequest, type Credentials } from './sigv4';
import type { StandIn, StandInRequest, StandInResponse } from './types';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';
/** The standard tier's largest value. */
export const MAX_STANDARD_VALUE_CHARS = 4096;
/** The longest name, counted with the parameter's ARN. */
export const MAX_NAME_WITH_ARN = 1011;
export const MAX_HIERARCHY_LEVELS = 15;
const TYPES = ['String', 'StringList', 'SecureString'] as const;
type ParameterType = (typeof TYPES)[number];

interface Parameter {
  readonly name: string;
  type: ParameterType;
  value: string;
  version: number;
  /** Epoch seconds. */
  modifiedAt: number;
  description?: string;
}

export interface LocalSsmOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Secret access key by access key id: a request signed with anything else is refused. */
  readonly credentials: Credentials;
  /** Where the parameters are kept across restarts (none: in memory only). */
  readonly file?: string;
}

const error = (type: string, message: string, status = 400): StandInResponse => jsonRpcError({ status, type, message }, CONTENT_TYPE);

/** The error SSM answers a request whose signature does not hold with. */
function signatureError(err: SigV4Error): StandInResponse {
  switch (err.code) {
    case 'InvalidAccessKeyId':
      return error('UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'AccessDenied':
      return error('MissingAuthenticationTokenException', err.message, 400);
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
      return error('IncompleteSignatureException', err.message);
    default:
      return error('InvalidSignatureException', err.message);
  }
}

export class LocalSsm implements StandIn {
  private readonly parameters = new Map<string, Parameter>();
  private readonly region: string;

  constructor(private readonly options: LocalSsmOptions) {
    this.region = options.region ?? 'us-east-1';
    if (options.file && existsSync(options.file)) {
      for (const p of JSON.parse(readFileSync(options.file, 'utf8')) as Parameter[]) this.parameters.set(p.name, p);
    }
  }

  /** The parameter's ARN: `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`. */
  arnOf(name: string): string {
    return `arn:aws:ssm:${this.region}:${ACCOUNT_ID}:parameter/${name.replace(/^\//, '')}`;
  }

  /** The parameter's value now (undefined when there is none), for the runtime itself. */
  valueOf(name: string): string | undefined {
    return this.parameters.get(name)?.value;
  }

  async handle(req: StandInRequest): Promise<StandInResponse | undefined> {
    const operation = targetOperation(req, 'AmazonSSM');
    if (operation === undefined) return undefined;
    try {
      verifyServiceRequest({ method: req.method, target: req.target ?? req.path, headers: req.headers, body: req.bytes ?? Buffer.from(req.body) }, this.options.credentials, this.region, 'ssm');
    } catch (err) {
      if (err instanceof SigV4Error) return signatureError(err);
      throw err;
    }
    const input = parseJsonBody(req.body);
    if (!input) return error('SerializationException', 'Malformed JSON request body.');
    switch (operation) {
      case 'PutParameter':
        return this.put(input);
      case 'GetParameter': {
        const found = this.find(input.Name);
        if (!found) return error('ParameterNotFound', '');
        return jsonResponse({ Parameter: this.describe(found, input.WithDecryption === true) }, CONTENT_TYPE);
      }
      case 'GetParameters': {
        const names = input.Names;
        if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
          return error('ValidationException', `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`);
        }
        const found: Record<string, unknown>[] = [];
        const invalid: string[] = [];
        for (const name of names) {
          const parameter = this.find(name);
          if (parameter) found.push(this.describe(parameter, input.WithDecryption === true));
          else invalid.push(String(name));
        }
        return jsonResponse({ Parameters: found, InvalidParameters: invalid }, CONTENT_TYPE);
      }
      case 'DeleteParameter': {
        const found = this.find(input.Name);
        if (!found) return error('ParameterNotFound', '');
        this.parameters.delete(found.name);
        this.save();
        return jsonResponse({}, CONTENT_TYPE);
      }
      case 'DeleteParameters': {
        const names = input.Names;
        if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
          return error('ValidationException', `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`);
        }
        const deleted: string[] = [];
        const invalid: string[] = [];
        for (const name of names) {
          const found = this.find(name);
          if (found && this.parameters.delete(found.name)) deleted.push(found.name);
          else invalid.push(String(name));
        }
        if (deleted.length) this.save();
        return jsonResponse({ DeletedParameters: deleted, InvalidParameters: invalid }, CONTENT_TYPE);
      }
      default:
        return error('InvalidAction', `The local Parameter Store does not support ${operation}.`);
    }
  }

  async close(): Promise<void> {}

  private put(input: Record<string, unknown>): StandInResponse {
    const name = input.Name;
    if (typeof name !== 'string') return error('ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
    const invalidName = this.nameProblem(name);
    if (invalidName) return invalidName;
    const value = input.Value;
    if (typeof value !== 'string' || value.length < 1) {
      return error('ValidationException', "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (input.Tier !== undefined && input.Tier !== 'Standard') return error('ValidationException', 'The local Parameter Store keeps standard-tier parameters only.');
    if (value.length > MAX_STANDARD_VALUE_CHARS) {
      return error(
        'ValidationException',
        `Standard tier parameters support a maximum parameter value of ${MAX_STANDARD_VALUE_CHARS} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`,
      );
    }
    const type = input.Type;
    if (type !== undefined && !TYPES.includes(type as ParameterType)) {
      return error('ValidationException', `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]`);
    }
    if (input.KeyId !== undefined && type !== 'SecureString') return error('ValidationException', 'KeyId is required for SecureString type parameter only.');
    const existing = this.parameters.get(name);
    const now = Math.floor(Date.now() / 1000);
    if (existing) {
      if (input.Overwrite !== true) return error('ParameterAlreadyExists', 'The parameter already exists. To overwrite this request, set the overwrite option in the request to true.');
      if (type !== undefined && type !== existing.type) {
        return error('HierarchyTypeMismatchException', 'Parameter Store does not support changing a parameter type in a hierarchy. You must create a new, unique parameter.');
      }
      existing.value = value;
      existing.version += 1;
      existing.modifiedAt = now;
      if (typeof input.Description === 'string') existing.description = input.Description;
      this.save();
      return jsonResponse({ Version: existing.version, Tier: 'Standard' }, CONTENT_TYPE);
    }
    if (type === undefined) return error('ValidationException', 'A parameter type is required when you create a parameter.');
    this.parameters.set(name, { name, type: type as ParameterType, value, version: 1, modifiedAt: now, ...(typeof input.Description === 'string' ? { description: input.Description } : {}) });
    this.save();
    return jsonResponse({ Version: 1, Tier: 'Standard' }, CONTENT_TYPE);
  }

  /** The error PutParameter answers a name Parameter Store does not take with (undefined: the name is valid). */
  private nameProblem(name: string): StandInResponse | undefined {
    if (name.length < 1 || !/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
      return error('ValidationException', 'Parameter name: can only contain the following symbols and letters: a-zA-Z0-9_.- and the slash character ( / ) to delineate hierarchies.');
    }
    if (name.includes('/') && !name.startsWith('/')) return error('ValidationException', 'Parameter name must be a fully qualified name.');
    const segments = name.replace(/^\//, '').split('/');
    if (segments.some((s) => s === '')) return error('ValidationException', 'Parameter name must be a fully qualified name.');
    if (/^(aws|ssm)/i.test(segments[0])) return error('ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
    if (segments.length > MAX_HIERARCHY_LEVELS) {
      return error('HierarchyLevelLimitExceededException', `A hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels.`);
    }
    if (this.arnOf(name).length > MAX_NAME_WITH_ARN) {
      return error('ValidationException', `Parameter name: the maximum length for a parameter name, including the full length of the parameter ARN, is ${MAX_NAME_WITH_ARN} characters.`);
    }
    return undefined;
  }

  /** A parameter by name or ARN. */
  private find(id: unknown): Parameter | undefined {
    if (typeof id !== 'string') return undefined;
    const prefix = `arn:aws:ssm:${this.region}:${ACCOUNT_ID}:parameter/`;
    if (!id.startsWith(prefix)) return this.parameters.get(id);
    const rest = id.slice(prefix.length);
    return this.parameters.get(`/${rest}`) ?? this.parameters.get(rest);
  }

  private describe(p: Parameter, decrypt: boolean): Record<string, unknown> {
    // Without decryption a SecureString's value is its ciphertext (here an opaque stand-in for one).
    const value = p.type === 'SecureString' && !decrypt ? `AQICAH${createHash('sha256').update(`${p.name}\n${p.version}\n${p.value}`).digest('base64')}` : p.value;
    return { Name: p.name, Type: p.type, Value: value, Version: p.version, LastModifiedDate: p.modifiedAt, ARN: this.arnOf(p.name), DataType: 'text' };
  }

  private save(): void {
    const file = this.options.file;
    if (!file) return;
    writeFileSync(`${file}.tmp`, JSON.stringify([...this.parameters.values()], null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
}
