/**
 * Parameter Store's GetParameter, and nothing else, for the functions that read secrets:
 * one AWS JSON 1.1 POST (`X-Amz-Target: AmazonSSM.GetParameter`), signed and sent without
 * `@aws-sdk/client-ssm` (core/aws/signed-request.ts), whose schema module describes every SSM
 * operation and put about 76 KB in each bundle, a fifth of the authorizer's. IAM authorizes it
 * as `ssm:GetParameter` on the parameter (and KMS decrypts through Parameter Store) as before;
 * its errors carry Parameter Store's names (`ParameterNotFound`, `AccessDeniedException` ...).
 *
 * Not the Parameters and Secrets Lambda Extension: it would need a layer and a second process
 * in every container (its start is billed INIT time), nine environment variables, a
 * per-region layer ARN, and its cache off to keep Cirrus's freshness rules (core/auth/secrets.ts),
 * leaving it nothing to do but relay the same GetParameter (docs/architecture.md).
 */
import { AwsServiceError, sendSigned } from './signed-request';

/** What GetParameter answers (the fields Cirrus reads). */
export interface Parameter {
  readonly Name: string;
  readonly Type: string;
  readonly Value: string;
  readonly Version: number;
}

/** The parameter, as GetParameter answers it (`WithDecryption`: a SecureString's plain value). */
export async function getParameter(name: string, withDecryption: boolean): Promise<Parameter> {
  const input = { Name: name, WithDecryption: withDecryption };
  const res = await sendSigned({
    service: 'ssm',
    counted: { service: 'SSM', command: 'GetParameter', input },
    path: '/',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
    body: JSON.stringify(input),
  });
  const parameter = (JSON.parse(res.body) as { Parameter?: Parameter }).Parameter;
  if (!parameter) throw new AwsServiceError('InternalServerError', 'GetParameter answered no Parameter', res.status, undefined, 1);
  return parameter;
}
