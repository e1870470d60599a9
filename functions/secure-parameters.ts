/**
 * Custom resource (the CDK Provider framework's onEvent handler) that creates the
 * deployment's secrets as SSM SecureString parameters: CloudFormation cannot create a
 * SecureString (AWS::SSM::Parameter takes String and StringList only), and a value written
 * in the template would be readable by anyone who can read the template.
 *
 * Each value is generated here, with node:crypto, and goes nowhere but PutParameter: not
 * into the template, the event, the answer (`Data`) or a log line.
 *
 * - Create: puts each parameter that does not exist yet (standard tier, encrypted with the
 *   AWS managed key `aws/ssm`); one that exists already (a retry, or a parameter a deleted
 *   deployment retained) keeps its value.
 * - Update: creates the parameters added to the list, deletes the ones taken off it (unless
 *   `Retain`), and leaves every other value as it is: an operator's
 *   `aws ssm put-parameter --overwrite` survives every deploy.
 * - Delete: deletes the parameters unless `Retain` (CloudFormation sends no Delete at all
 *   when the resource itself is retained).
 *
 * The physical id never changes, so CloudFormation never deletes "the old resource" after
 * an update.
 */
import { randomBytes } from 'node:crypto';
import { DeleteParametersCommand, ParameterAlreadyExists, PutParameterCommand } from '@aws-sdk/client-ssm';
import { ssm } from '../core/aws/ssm';

/** One parameter to create: its name, its description and how many random bytes its value holds. */
export interface SecureParameterSpec {
  readonly Name: string;
  readonly Description: string;
  /** Random bytes, base64url-encoded into the value (48 bytes: 64 characters). */
  readonly Bytes: number | string;
}

export interface SecureParametersProperties {
  readonly Parameters: readonly SecureParameterSpec[];
  /** `'true'`: parameters are never deleted (the deployment's removal policy retains data). */
  readonly Retain?: string | boolean;
}

export interface SecureParametersEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly LogicalResourceId?: string;
  readonly ResourceProperties: SecureParametersProperties;
  readonly OldResourceProperties?: SecureParametersProperties;
}

const retained = (props: SecureParametersProperties | undefined) => props?.Retain === true || props?.Retain === 'true';

async function create(spec: SecureParameterSpec): Promise<void> {
  const bytes = Number(spec.Bytes);
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 1024) throw new Error(`Parameter ${spec.Name}: Bytes must be an integer from 16 to 1024`);
  try {
    await ssm().send(
      new PutParameterCommand({
        Name: spec.Name,
        Description: spec.Description,
        Type: 'SecureString',
        Tier: 'Standard',
        Value: randomBytes(bytes).toString('base64url'),
        Overwrite: false,
      }),
    );
  } catch (err) {
    // Exists already: its value, whoever set it, is the one to keep.
    if (!(err instanceof ParameterAlreadyExists)) throw err;
  }
}

async function remove(names: readonly string[]): Promise<void> {
  // At most 10 names per request; a name that is already gone is reported, not an error.
  for (let i = 0; i < names.length; i += 10) await ssm().send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
}

export async function handler(event: SecureParametersEvent): Promise<{ PhysicalResourceId: string; Data: Record<string, string> }> {
  const wanted = event.ResourceProperties.Parameters ?? [];
  const physicalId = event.PhysicalResourceId ?? `cirrus-secure-parameters-${event.LogicalResourceId ?? 'local'}`;
  const data = { Names: wanted.map((p) => p.Name).join(',') };
  switch (event.RequestType) {
    case 'Create':
      for (const spec of wanted) await create(spec);
      break;
    case 'Update': {
      for (const spec of wanted) await create(spec);
      const kept = new Set(wanted.map((p) => p.Name));
      const dropped = (event.OldResourceProperties?.Parameters ?? []).map((p) => p.Name).filter((name) => !kept.has(name));
      if (dropped.length && !retained(event.ResourceProperties)) await remove(dropped);
      break;
    }
    case 'Delete':
      if (!retained(event.ResourceProperties)) await remove(wanted.map((p) => p.Name));
      break;
  }
  return { PhysicalResourceId: physicalId, Data: data };
}
