/**
 * IAM, locally: every AWS request a function sends is checked against that function's
 * policy, the same statements the stack gives its role (core/iam.ts), and a request the
 * role would not allow fails with the error AWS answers it with. A missing grant fails a
 * local test instead of a deployment.
 */
import { ApiGatewayManagementApiServiceException } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { RDSDataServiceException } from '@aws-sdk/client-rds-data';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import { setRequestCheck } from '../core/aws/accounting';
import { functionPolicy, type PolicyOptions, type PolicyResource, type PolicyStatementSpec } from '../core/iam';
import { functions, tables, type FunctionKey, type TableKey } from '../core/manifest';
import { runningFunction } from './lambda';

/** One action on one resource, as IAM evaluates a request (a batch or transaction is several). */
export interface Access {
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request (`s3:prefix`). */
  readonly context?: Readonly<Record<string, string>>;
}

/** A statement with its resources as ARNs (possibly with `*` and `?` wildcards). */
export interface ResolvedStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: PolicyStatementSpec['conditions'];
}

export interface LocalArns {
  readonly region: string;
  readonly account: string;
  /** The ARN of each resource a policy names. */
  readonly resolve: (resource: PolicyResource) => string;
  /** The full ARN of a Secrets Manager secret given by name or ARN (the database credentials the Data API reads). */
  readonly secretArn: (id: string) => string;
  /** The WebSocket API id and stage whose @connections the functions call. */
  readonly apiId: string;
  readonly stage: string;
}

const patterns = new Map<string, RegExp>();

/** `*` any run of characters, `?` any one, as in IAM's resource and action patterns (actions ignore case). */
function globMatches(pattern: string, value: string, caseInsensitive = false): boolean {
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let regex = patterns.get(key);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    patterns.set(key, (regex = new RegExp(`^${source}$`, caseInsensitive ? 'si' : 's')));
  }
  return regex.test(value);
}

function conditionsHold(conditions: ResolvedStatement['conditions'], context: Access['context']): boolean {
  if (!conditions) return true;
  for (const [operator, keys] of Object.entries(conditions)) {
    for (const [key, expected] of Object.entries(keys)) {
      const actual = context?.[key];
      if (actual === undefined) return false;
      const values = [expected].flat();
      if (operator === 'StringLike' && values.some((v) => globMatches(v, actual))) continue;
      // A single-item request has one leading key: every value of the set matches when it does.
      if (operator === 'ForAllValues:StringLike' && values.some((v) => globMatches(v, actual))) continue;
      if (operator === 'StringEquals' && values.includes(actual)) continue;
      // Any other operator is unknown here: the statement does not apply (deny by default).
      return false;
    }
  }
  return true;
}

/** Whether identity-based statements (all Allow) allow one access. */
export function allows(statements: readonly ResolvedStatement[], access: Access): boolean {
  return statements.some(
    (statement) =>
      statement.actions.some((action) => globMatches(action, access.action, true)) &&
      statement.resources.some((resource) => globMatches(resource, access.resource)) &&
      conditionsHold(statement.conditions, access.context),
  );
}

const str = (value: unknown) => (typeof value === 'string' ? value : '');

/** The IAM actions and resources one SDK request needs, as AWS authorizes them. */
export function accessesOf(service: string, command: string, input: Record<string, unknown>, arns: LocalArns): Access[] {
  const { region, account } = arns;
  switch (service) {
    case 'DynamoDB': {
      const table = (name: unknown, index?: unknown) =>
        `arn:aws:dynamodb:${region}:${account}:table/${str(name)}${index ? `/index/${str(index)}` : ''}`;
      const on = (action: string, resource: string): Access => ({ action: `dynamodb:${action}`, resource });
      switch (command) {
        case 'Query':
        case 'Scan':
          return [on(command, table(input.TableName, input.IndexName))];
        case 'BatchGetItem':
        case 'BatchWriteItem':
          // Authorized per table named in RequestItems.
          return Object.keys((input.RequestItems as object) ?? {}).map((name) => on(command, table(name)));
        case 'TransactWriteItems':
        case 'TransactGetItems': {
          // No action of its own: each item needs the action it performs, on its table.
          const actionOf: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
          return ((input.TransactItems as Record<string, { TableName?: string }>[]) ?? []).flatMap((item) =>
            Object.entries(item).map(([kind, op]) => on(actionOf[kind] ?? kind, table(op?.TableName))),
          );
        }
        case 'GetItem':
        case 'PutItem':
        case 'UpdateItem':
        case 'DeleteItem': {
          // The item's partition key value is the request's `dynamodb:LeadingKeys`.
          const arn = table(input.TableName);
          const spec = Object.entries(tables).find(([key]) => arns.resolve({ kind: 'table', table: key as TableKey }) === arn)?.[1];
          const item = (command === 'PutItem' ? input.Item : input.Key) as Record<string, unknown> | undefined;
          const value = spec ? item?.[spec.partitionKey.name] : undefined;
          // Marshalled ({ S: … }) or not, as the document client's middleware has or has not run yet.
          const leading = typeof value === 'string' ? value : (value as { S?: unknown } | undefined)?.S;
          return [{ ...on(command, arn), ...(typeof leading === 'string' ? { context: { 'dynamodb:LeadingKeys': leading } } : {}) }];
        }
        default:
          return [on(command, table(input.TableName))];
      }
    }
    case 'SQS': {
      const name = str(input.QueueUrl).split('?')[0].split('/').filter(Boolean).pop() ?? '';
      // A batch call is authorized as its single-message action.
      const action = command.replace(/Batch$/, '');
      return [{ action: `sqs:${action}`, resource: `arn:aws:sqs:${region}:${account}:${name}` }];
    }
    case 'SSM': {
      // Authorized per parameter, by its ARN (a name's leading slash is not repeated after `parameter/`).
      const parameter = (name: string) =>
        name.startsWith('arn:') ? name : `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
      const names = Array.isArray(input.Names) ? input.Names.map(str) : [str(input.Name)];
      // GetParameters is authorized as itself on each parameter; DeleteParameters as DeleteParameter.
      const action = command === 'DeleteParameters' ? 'DeleteParameter' : command;
      return names.map((name) => ({ action: `ssm:${action}`, resource: parameter(name) }));
    }
    case 'RDSData':
      // The Data API reads the database secret with the caller's own permissions.
      return [
        { action: `rds-data:${command}`, resource: str(input.resourceArn) },
        { action: 'secretsmanager:GetSecretValue', resource: arns.secretArn(str(input.secretArn)) },
      ];
    case 'S3': {
      const bucket = `arn:aws:s3:::${str(input.Bucket)}`;
      if (command === 'ListObjectsV2' || command === 'ListObjects') {
        return [{ action: 's3:ListBucket', resource: bucket, context: { 's3:prefix': str(input.Prefix) } }];
      }
      // DeleteObjects is authorized as DeleteObject of each key it names. (S3 answers a key the caller
      // may not delete with an AccessDenied entry in the result and deletes the others; here the whole
      // request is refused, since the check runs before it is sent.)
      if (command === 'DeleteObjects') {
        const objects = ((input.Delete as { Objects?: { Key?: unknown }[] } | undefined)?.Objects ?? []).map((o) => str(o.Key));
        return objects.map((key) => ({ action: 's3:DeleteObject', resource: `${bucket}/${key}` }));
      }
      // HeadObject is authorized as GetObject; the steps of a multipart upload but its abort as PutObject.
      const action = command === 'HeadObject' ? 'GetObject' : ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'].includes(command) ? 'PutObject' : command;
      return [{ action: `s3:${action}`, resource: `${bucket}/${str(input.Key)}` }];
    }
    case 'Lambda': {
      // A function given by name, partial or full ARN, possibly with a qualifier: authorized on the function's ARN.
      const name = str(input.FunctionName).replace(/^arn:[^:]+:lambda:[^:]+:\d+:function:/, '').replace(/^\d+:function:/, '').split(':')[0];
      const action = command === 'Invoke' ? 'InvokeFunction' : command;
      return [{ action: `lambda:${action}`, resource: `arn:aws:lambda:${region}:${account}:function:${name}` }];
    }
    case 'ApiGatewayManagementApi': {
      const method = command === 'PostToConnection' ? 'POST' : command === 'GetConnection' ? 'GET' : 'DELETE';
      return [
        {
          action: 'execute-api:ManageConnections',
          resource: `arn:aws:execute-api:${region}:${account}:${arns.apiId}/${arns.stage}/${method}/@connections/${str(input.ConnectionId)}`,
        },
      ];
    }
    default:
      return [{ action: `${service.toLowerCase()}:${command}`, resource: '*' }];
  }
}

/** What each service answers a request its caller may not make with. */
const deniedAs: Record<string, { name: string; status: number; type: typeof DynamoDBServiceException }> = {
  DynamoDB: { name: 'AccessDeniedException', status: 400, type: DynamoDBServiceException },
  SSM: { name: 'AccessDeniedException', status: 400, type: SSMServiceException },
  SQS: { name: 'AccessDenied', status: 403, type: SQSServiceException },
  RDSData: { name: 'AccessDeniedException', status: 403, type: RDSDataServiceException },
  S3: { name: 'AccessDenied', status: 403, type: S3ServiceException },
  ApiGatewayManagementApi: { name: 'AccessDeniedException', status: 403, type: ApiGatewayManagementApiServiceException },
};

/** The role session a function's requests are signed with, as AWS names it in the error. */
export function roleSessionArn(key: FunctionKey, account: string): string {
  const name = functions[key].name;
  return `arn:aws:sts::${account}:assumed-role/Cirrus-${name}Role/Cirrus-${name}`;
}

/** AWS's error for a request no statement of the caller's policy allows. */
export function accessDenied(service: string, key: FunctionKey, access: Access, account: string): Error {
  const { name, status, type } = deniedAs[service] ?? { name: 'AccessDeniedException', status: 403, type: DynamoDBServiceException };
  return new type({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status, requestId: crypto.randomUUID(), attempts: 1, totalRetryDelay: 0 },
    message:
      `User: ${roleSessionArn(key, account)} is not authorized to perform: ${access.action} on resource: ${access.resource} ` +
      `because no identity-based policy allows the ${access.action} action`,
  });
}

/** A function's policy with its resources as local ARNs. */
export function resolvePolicy(statements: readonly PolicyStatementSpec[], arns: LocalArns): ResolvedStatement[] {
  return statements.map((statement) => ({
    actions: statement.actions,
    resources: statement.resources.map((resource) => arns.resolve(resource)),
    conditions: statement.conditions,
  }));
}

export interface PolicyEnforcement {
  /** Checks a request made with a function's role outside its code (Lambda sending a failure record to a destination). */
  check(key: FunctionKey, service: string, command: string, input: Record<string, unknown>): void;
  /** Stops checking (the runtime stopped). */
  stop(): void;
}

/**
 * Checks every request a function sends from now on against its policy. Code running
 * outside an invocation (tests preparing data, the runtime) is not checked, as an
 * administrator's credentials would not be.
 */
export function enforcePolicies(options: PolicyOptions & { arns: LocalArns; observe?: (service: string, command: string, input: Record<string, unknown>) => void }): PolicyEnforcement {
  const policies = new Map<FunctionKey, ResolvedStatement[]>();
  const policyOf = (key: FunctionKey) => {
    let policy = policies.get(key);
    if (!policy) policies.set(key, (policy = resolvePolicy(functionPolicy(key, { webhooks: options.webhooks, offlinePush: options.offlinePush }), options.arns)));
    return policy;
  };
  const checkAs = (key: FunctionKey, service: string, command: string, input: Record<string, unknown>) => {
    const policy = policyOf(key);
    for (const access of accessesOf(service, command, input, options.arns)) {
      if (!allows(policy, access)) throw accessDenied(service, key, access, options.arns.account);
    }
  };
  const check = (service: string, command: string, input: Record<string, unknown>) => {
    const key = runningFunction();
    if (key) {
      checkAs(key, service, command, input);
      options.observe?.(service, command, input);
    }
  };
  setRequestCheck(check);
  return {
    check: checkAs,
    stop() {
      setRequestCheck(undefined);
    },
  };
}
