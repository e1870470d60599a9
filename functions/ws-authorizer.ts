/** REQUEST authorizer of `$connect`: the `token` query parameter must name a live session. */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authorizeConnection } from '../core/services/auth';
import { log } from '../core/log';
import { observed } from '../core/runtime/observe';

export const handler = observed(
  'wsAuthorizer',
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const outcome = await authorizeConnection(event.queryStringParameters?.token);
    if (!outcome.ok) {
      log.info('connection refused', { reason: outcome.reason });
      // API Gateway answers the upgrade with 401 when an authorizer throws "Unauthorized".
      throw new Error('Unauthorized');
    }
    const { userId, platformId, sessionId } = outcome;
    return {
      principalId: userId,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
      context: { userId, platformId, sessionId },
    };
  },
  (event) => ({ correlationId: event.requestContext?.requestId }),
);
