import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { tables, type IndexSpec } from '../../core/manifest';
import { logicalId, synthesizeCirrusStack, synthTimeout, type Synthesized } from './support';

describe('When CirrusStack is synthesized with requireFriendship', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesizeCirrusStack({ requireFriendship: true });
  }, synthTimeout);

  it('should give every table its global secondary indexes from the manifest, with their projections', () => {
    for (const [key, spec] of Object.entries(tables)) {
      const indexes = ('indexes' in spec ? spec.indexes : []) as readonly IndexSpec[];
      if (indexes.length === 0) continue;
      const table = synth.template.toJSON().Resources[logicalId(synth.stack.im.tables[key as keyof typeof tables])];
      expect(table.Properties.GlobalSecondaryIndexes.map((i: { IndexName: string }) => i.IndexName).sort()).toEqual(indexes.map((i) => i.name).sort());
      for (const index of table.Properties.GlobalSecondaryIndexes) {
        const projection = indexes.find((i) => i.name === index.IndexName)!.projection ?? 'ALL';
        expect(index.Projection, index.IndexName).toEqual(
          typeof projection === 'string' ? { ProjectionType: projection } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] },
        );
      }
    }
  });

  it('should keep the users list index to keys, so a presence change (conns) writes only the table', () => {
    const users = synth.template.toJSON().Resources[logicalId(synth.stack.im.tables.users)];
    expect(users.Properties.GlobalSecondaryIndexes).toEqual([expect.objectContaining({ IndexName: 'byCreation', Projection: { ProjectionType: 'KEYS_ONLY' } })]);
  });

  it('should tell the send path that friendship is required', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REQUIRE_FRIENDSHIP: 'true' }) },
    });
  });
});
