import { describe, expect, it } from 'vitest';
import { findRefusedString, stringProblem } from '../../core/protocol/strings';
import { isPercentDecodable, matchRoute } from '../../core/http/match';
import { sqsBody } from '../../core/aws/sqs';
import { ClientMsgId } from '../../core/protocol/schema';

describe('strings Cirrus refuses', () => {
  it('lone surrogates and NUL, not pairs or other characters', () => {
    expect(stringProblem('a\ud800')).toMatch(/lone UTF-16 surrogate \(U\+D800\)/);
    expect(stringProblem('\udfff')).toMatch(/U\+DFFF/);
    expect(stringProblem('\udc00\ud800')).toMatch(/surrogate/); // reversed halves are not a pair
    expect(stringProblem('a\u0000b')).toMatch(/U\+0000/);
    for (const ok of ['', '😀', '\ud83d\ude00', '\t\u0001\u001f\u007f', '\ufffd\ufffe\uffff', '\u2028']) expect(stringProblem(ok)).toBeUndefined();
  });

  it('are found anywhere in a JSON value, keys included, with their path', () => {
    expect(findRefusedString({ clientMsgId: 'x', content: { text: 'ok', list: ['a', { deep: 'b\u0000' }] } })).toMatchObject({ path: 'content.list.1.deep' });
    expect(findRefusedString({ content: { ['\ud800']: 1 } })).toMatchObject({ path: 'content', problem: expect.stringMatching(/^an object key/) });
    expect(findRefusedString('\u0000')).toMatchObject({ path: '' });
    expect(findRefusedString({ a: [1, true, null, 'fine'] })).toBeUndefined();
  });

  it('a deeply nested value does not exhaust the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`);
    const found = findRefusedString(deep);
    expect(found?.problem).toMatch(/U\+0000/);
    expect(found!.path.length).toBeLessThanOrEqual(201);
  });

  it('the clientMsgId schema says so too', () => {
    expect(ClientMsgId.safeParse('id-\ud800').success).toBe(false);
    expect(ClientMsgId.safeParse('id-😀').success).toBe(true);
  });
});

describe('paths that are not valid percent-encoded UTF-8', () => {
  it('match their route with the segment left undecoded, instead of throwing', () => {
    for (const bad of ['%ED%A0%80', '%FF', '%E0%A4', '%C0%AF', '%ZZ', '%']) {
      expect(isPercentDecodable(bad)).toBe(false);
      expect(matchRoute('GET', `/users/${bad}`)?.pathParameters).toEqual({ userId: bad });
    }
    expect(matchRoute('GET', '/users/%61lice%F0%9F%98%80')?.pathParameters).toEqual({ userId: 'alice😀' });
  });
});

describe('SQS message bodies', () => {
  it('escape U+FFFE and U+FFFF, which SQS refuses, and parse back to the same value', () => {
    const job = { text: 'a\ufffeb\uffffc\ufffd😀\u0000' };
    const body = sqsBody(job);
    expect(body).not.toMatch(/[\ufffe\uffff]/);
    expect(JSON.parse(body)).toEqual(job);
  });
});
