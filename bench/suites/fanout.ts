/**
 * Suite 5: fan-out. One message to a large group, measured locally from send to the last
 * online member's push; and the time modelled for AWS from the push pipeline's settings
 * (slices of PUSH_JOB_USERS recipients, each an asynchronous push invocation, and the push
 * function's parallel posts) against the bound set by the account's 10,000 requests/s API
 * Gateway limit.
 */
import { PUSH_JOB_CONNECTIONS, PUSH_JOB_USERS } from '../../core/services/fanout';
import { POST_CONCURRENCY } from '../../core/services/push';
import { shardsFor } from '../../core/store/group-online';
import type { LocalCirrus } from '../../local/runtime';
import { LoadClients } from '../children';
import { Api, ids, median, percentile, settle } from '../support';

export interface FanoutLocal {
  members: number;
  online: number;
  runs: { lastMs: number; p50Ms: number; reached: number }[];
  medianLastMs: number;
}

export async function runFanoutLocal(cirrus: LocalCirrus, options: { members: number; online: number; runs: number }): Promise<FanoutLocal> {
  const api = new Api(cirrus);
  const users = ids('fo', options.members);
  await api.register(users);
  await api.group('fanout', users[0], users.slice(1));
  const tokens = [];
  for (const userId of users.slice(0, options.online)) tokens.push({ userId, token: await api.token(userId) });
  const clients = LoadClients.start();
  try {
    await clients.send({ cmd: 'connect', wsUrl: cirrus.wsUrl, tokens });
    await clients.send({ cmd: 'fanout', groupId: 'fanout', receivers: options.online - 1, tag: 'warm' });
    await settle(cirrus);
    const runs = [];
    for (let i = 0; i < options.runs; i++) {
      const r = await clients.send<{ arrivals: number[]; reached: number }>({ cmd: 'fanout', groupId: 'fanout', receivers: options.online - 1, tag: `run${i}` });
      runs.push({ lastMs: r.arrivals[r.arrivals.length - 1], p50Ms: percentile(r.arrivals, 50), reached: r.reached });
      await settle(cirrus);
    }
    return { members: options.members, online: options.online, runs, medianLastMs: median(runs.map((r) => r.lastMs)) };
  } finally {
    await clients.stop();
  }
}

/** Latencies in AWS the model assumes (typical same-region figures, not measured here). */
export const awsLatencies = {
  sendPathMs: 40,
  /** An asynchronous `Invoke` answered (202), the slices' requests in parallel. */
  invokeRequestMs: 10,
  /** From an accepted asynchronous invocation to the function running (the study's 30 ms). */
  asyncInvokeToLambdaMs: 30,
  dynamoQueryMs: 5,
  dynamoBatchGetMs: 8,
  postToConnectionMs: 15,
  accountRequestsPerSecond: 10_000,
};

export interface FanoutModel {
  members: number;
  online: number;
  /** Whether the group has an online index (GroupOnline) that delivery reads instead of the members. */
  indexed: boolean;
  pushJobs: number;
  pushInvocations: number;
  modelledMs: number;
  boundMs: number;
  ratio: number;
  steps: { step: string; ms: number }[];
}

/**
 * Send → last push in AWS: the send path, then in the same function the recipients — the
 * members' Query, or with the group's online index (`indexed`) one strong Query per shard in
 * parallel — and one asynchronous invocation of the push function per PUSH_JOB_USERS
 * members (or PUSH_JOB_CONNECTIONS online connections carried by the job), requested in parallel;
 * Lambda's hop to the push functions (all running at once), each reading its users' receive
 * options and connections (nothing with the index) and posting with POST_CONCURRENCY in
 * flight, all posts sharing the account's request rate. No SQS hop on the way.
 */
export function modelFanout(members: number, online: number, indexed = false): FanoutModel {
  const L = awsLatencies;
  const pushJobs = indexed ? Math.ceil(online / PUSH_JOB_CONNECTIONS) : Math.ceil(members / PUSH_JOB_USERS);
  const pushInvocations = pushJobs;
  const usersPerInvocation = members / pushInvocations;
  const shards = indexed ? shardsFor(members) : 0;
  const indexRead = L.dynamoQueryMs + Math.ceil(online / Math.max(1, shards) / 2000) * L.dynamoQueryMs * 2;
  const send = (indexed ? indexRead : Math.ceil(members / 5000) * L.dynamoQueryMs * 2) + L.invokeRequestMs;
  // One BatchGetItem per 50 recipients reads receive options and live connections together, one after another.
  const lookups = indexed ? 0 : Math.ceil(usersPerInvocation / 50) * L.dynamoBatchGetMs;
  const postRate = Math.min(L.accountRequestsPerSecond, (pushInvocations * POST_CONCURRENCY * 1000) / L.postToConnectionMs);
  const posting = (online / postRate) * 1000;
  const steps = [
    { step: 'send path (validate, seq, store)', ms: L.sendPathMs },
    { step: indexed ? `send: online index (${shards} shard Queries in parallel), push invocations` : 'send: members, push invocations', ms: send },
    { step: 'asynchronous invocation → push', ms: L.asyncInvokeToLambdaMs },
    { step: indexed ? 'push: connections carried by the invocation (no read)' : 'push: receive options and live connections (a BatchGetItem per 50 users)', ms: lookups },
    { step: `push: ${online.toLocaleString('en-US')} posts at ${Math.round(postRate).toLocaleString('en-US')}/s`, ms: posting },
  ];
  const modelledMs = steps.reduce((n, s) => n + s.ms, 0);
  const boundMs = (online / L.accountRequestsPerSecond) * 1000;
  return { members, online, indexed, pushJobs, pushInvocations, modelledMs, boundMs, ratio: modelledMs / boundMs, steps };
}
