/**
 * One DynamoDB Local for the whole run (it takes seconds to start); each test file
 * uses its own table prefix, so files stay independent.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/aws/dynamodb';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal({});
  project.provide('dynamoEndpoint', ddb.endpoint);
  return async () => {
    await ddb.stop();
  };
}
