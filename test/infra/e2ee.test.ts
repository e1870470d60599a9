/**
 * The key-package directory in the template: its table, and least privilege around it: only
 * the httpE2ee function reaches it, and that function reaches no message, conversation or
 * history resource (it never needs to read content).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { functions, type FunctionKey } from '../../core/manifest';
import { logicalId, synthesizeCirrusStack, type Synthesized } from './support';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesizeCirrusStack();
});

/** The statements of every policy attached to a function's role. */
function statementsOf(key: FunctionKey): { Action: string | string[]; Resource: unknown }[] {
  const fn = synth.template.toJSON().Resources[logicalId(synth.stack.im.functions[key])];
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(synth.template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${role}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('The key-package directory', () => {
  it('is a table keyed by user and item, billed on demand', () => {
    const table = synth.template.toJSON().Resources[logicalId(synth.stack.im.tables.keyPackages)];
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: 'userId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('is reached by the httpE2ee function, which reaches no content, and by the erasure of a user only to delete', () => {
    const tableId = logicalId(synth.stack.im.tables.keyPackages);
    const reaching = (Object.keys(functions) as FunctionKey[]).filter((key) => JSON.stringify(statementsOf(key)).includes(`"${tableId}"`));
    expect(reaching).toEqual(['http', 'httpE2ee']);
    // The http function serves POST /admin/users/{userId}/erase: it lists and deletes a user's items, nothing else.
    const erasing = statementsOf('http').filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`)).flatMap((s) => [s.Action].flat());
    expect(erasing.sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:Query']);
    const statements = JSON.stringify(statementsOf('httpE2ee'));
    for (const table of ['messages', 'messageIds', 'conversations', 'userConversations', 'outbox'] as const) {
      expect(statements, table).not.toContain(`"${logicalId(synth.stack.im.tables[table])}"`);
    }
    expect(statements).not.toMatch(/rds-data|s3:|sqs:SendMessage|execute-api:ManageConnections/);
    // Claims delete conditionally; the directory is never scanned.
    const actions = statementsOf('httpE2ee').filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`)).flatMap((s) => [s.Action].flat());
    expect(actions).toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:Scan');
  });
});
