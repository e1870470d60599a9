/**
 * The KeyPackages table's items by key prefix (core/services/e2ee.ts holds what they mean):
 * counting and deleting a user's items, or one device's, page by page. Free of the MLS
 * library, so that the functions that only remove items (an erasure) do not carry it.
 */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { ddb } from '../aws/dynamodb';
import { config } from '../config';
import { batchWrite } from './dynamo';

const table = () => config.tableName('keyPackages');

/** Each page of the user's items whose sort key starts with `prefix` (every item when none). */
async function* pages(userId: string, prefix: string | undefined, query: { select?: 'COUNT'; keysOnly?: boolean }): AsyncGenerator<QueryCommandOutput> {
  let start: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await ddb().send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: prefix === undefined ? 'userId = :u' : 'userId = :u AND begins_with(sk, :k)',
        ExpressionAttributeValues: prefix === undefined ? { ':u': userId } : { ':u': userId, ':k': prefix },
        ...(query.select ? { Select: query.select, ConsistentRead: true } : {}),
        ...(query.keysOnly ? { ProjectionExpression: 'userId, sk' } : {}),
        ExclusiveStartKey: start,
      }),
    );
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}

export const keyPackageItems = {
  /** How many of the user's items start with `prefix` (strongly consistent). */
  async count(userId: string, prefix: string): Promise<number> {
    let count = 0;
    for await (const page of pages(userId, prefix, { select: 'COUNT' })) count += page.Count ?? 0;
    return count;
  },

  /** Deletes the user's items whose sort key starts with `prefix`, or all of them. */
  async remove(userId: string, prefix?: string): Promise<void> {
    for await (const page of pages(userId, prefix, { keysOnly: true })) {
      await batchWrite(table(), (page.Items ?? []).map((Key) => ({ DeleteRequest: { Key } })));
    }
  },
};
