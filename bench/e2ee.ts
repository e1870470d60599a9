/**
 * What end-to-end encryption costs per message: the MLS operations the SDK runs (ts-mls,
 * suite 1), their CPU time on this machine and the size of what they put on the wire, for
 * groups of 2 to 100 devices. The server's side is the plaintext path's: the content is a
 * base64 string of the sizes below (`npx tsx bench/e2ee.ts` writes bench/results/e2ee.json;
 * `npm run bench -- --report` renders it into docs/performance.md).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  acceptAll,
  cipherSuite,
  createApplicationMessage,
  createCommit,
  createGroup,
  decodeMessage,
  emptyPskIndex,
  encodeMessage,
  generateKeyPackage,
  joinGroup,
  newSignatureKeys,
  processMessage,
  utf8,
  type ClientState,
} from '../sdk/src/e2ee/mls';
import type { E2eeFigures } from './e2ee-report';

const TEXT = JSON.stringify({ contentType: 101, content: { text: 'See you at the station at 8, I will bring the tickets.' } });
const PLAIN_BYTES = utf8(JSON.stringify({ contentType: 101, content: { text: 'See you at the station at 8, I will bring the tickets.' } })).length;

async function time<T>(runs: number, f: () => Promise<T>): Promise<{ ms: number; last: T }> {
  let last!: T;
  for (let i = 0; i < 3; i++) last = await f(); // warm
  // The median of single runs: the machine is shared, and a mean would carry others' load.
  const each: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    last = await f();
    each.push(performance.now() - start);
  }
  each.sort((a, b) => a - b);
  return { ms: each[Math.floor(each.length / 2)]!, last };
}

/** A group of `n` devices: the creator's state and one member's. */
async function groupOf(n: number): Promise<{ creator: ClientState; member: ClientState; welcomeBytes: number; addCommitBytes: number }> {
  const cs = await cipherSuite();
  const keys = await newSignatureKeys();
  const mine = await generateKeyPackage('u0', 'd0', keys);
  let creator = await createGroup(utf8('sg_bench'), mine.publicPackage, mine.privatePackage, [], cs);
  const others = await Promise.all(Array.from({ length: n - 1 }, async (_, i) => generateKeyPackage(`u${i + 1}`, 'd', await newSignatureKeys())));
  const res = await createCommit({ state: creator, cipherSuite: cs }, { extraProposals: others.map((o) => ({ proposalType: 'add' as const, add: { keyPackage: o.publicPackage } })), ratchetTreeExtension: true });
  creator = res.newState;
  const welcome = encodeMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: res.welcome! });
  const w = decodeMessage(welcome);
  if (w.wireformat !== 'mls_welcome') throw new Error('welcome');
  const member = await joinGroup(w.welcome, others[0]!.publicPackage, others[0]!.privatePackage, emptyPskIndex, cs);
  return { creator, member, welcomeBytes: Math.ceil((welcome.length * 3) / 4), addCommitBytes: Math.ceil((encodeMessage(res.commit).length * 3) / 4) };
}

export async function measureE2ee(sizes = [2, 10, 30, 100]): Promise<E2eeFigures> {
  const cs = await cipherSuite();
  const keys = await newSignatureKeys();
  const kp = await time(20, () => generateKeyPackage('u', 'd', keys));
  const rows: E2eeFigures['groups'] = [];
  for (const n of sizes) {
    const g = await groupOf(n);
    let sender = g.creator;
    const enc = await time(50, async () => {
      const r = await createApplicationMessage(sender, utf8(TEXT), cs);
      sender = r.newState;
      return encodeMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage });
    });
    // Decrypting: fresh messages, each processed once by the member.
    const messages: string[] = [];
    for (let i = 0; i < 53; i++) {
      const r = await createApplicationMessage(sender, utf8(TEXT), cs);
      sender = r.newState;
      messages.push(encodeMessage({ version: 'mls10', wireformat: 'mls_private_message', privateMessage: r.privateMessage }));
    }
    let receiver = g.member;
    let k = 0;
    const dec = await time(50, async () => {
      const m = decodeMessage(messages[k++]!);
      const r = await processMessage(m as never, receiver, emptyPskIndex, acceptAll, cs);
      receiver = r.newState;
      return r;
    });
    // A key rotation (empty commit with a path): made by one device, processed by every other.
    const commit = await time(10, () => createCommit({ state: sender, cipherSuite: cs }, {}));
    rows.push({
      devices: n,
      applicationBytes: Math.ceil((enc.last.length * 3) / 4),
      applicationBase64Bytes: enc.last.length + JSON.stringify({ data: '', epoch: 1 }).length,
      encryptMs: enc.ms,
      decryptMs: dec.ms,
      commitBytes: Math.ceil((encodeMessage(commit.last.commit).length * 3) / 4),
      commitMs: commit.ms,
      welcomeBytes: g.welcomeBytes,
      addCommitBytes: g.addCommitBytes,
    });
  }
  return { plaintextBytes: PLAIN_BYTES, plaintextContentBytes: JSON.stringify({ text: 'See you at the station at 8, I will bring the tickets.' }).length, keyPackageMs: kp.ms, keyPackageBytes: Math.ceil((kp.last.b64.length * 3) / 4), groups: rows, node: process.version, date: new Date().toISOString().slice(0, 10) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureE2ee();
  writeFileSync('bench/results/e2ee.json', JSON.stringify(figures, null, 2) + '\n');
  console.log(JSON.stringify(figures, null, 2));
}
