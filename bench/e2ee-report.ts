/** The "End-to-end encryption" section of docs/performance.md, from bench/results/e2ee.json (bench/e2ee.ts). */
import { existsSync, readFileSync } from 'node:fs';

export interface E2eeFigures {
  plaintextBytes: number;
  plaintextContentBytes: number;
  keyPackageMs: number;
  keyPackageBytes: number;
  groups: {
    devices: number;
    applicationBytes: number;
    applicationBase64Bytes: number;
    encryptMs: number;
    decryptMs: number;
    commitBytes: number;
    commitMs: number;
    welcomeBytes: number;
    addCommitBytes: number;
  }[];
  node: string;
  date: string;
}

const f1 = (n: number) => n.toFixed(n < 10 ? 2 : 1);

export function e2eeSection(file = 'bench/results/e2ee.json'): string[] {
  if (!existsSync(file)) return [];
  const f = JSON.parse(readFileSync(file, 'utf8')) as E2eeFigures;
  const g2 = f.groups[0]!;
  return [
    '## End-to-end encryption',
    '',
    `What an encrypted conversation (MLS, suite 1: X25519, AES-128-GCM, Ed25519; \`ts-mls\` in the SDK) costs per message, measured by \`npx tsx bench/e2ee.ts\` on this machine (Node ${f.node}, ${f.date}). ` +
      `The server does the same work as for plaintext: it stores and pushes a base64 string, so a message's AWS cost grows only with its size (DynamoDB write units per KB, API Gateway's 32 KB metering unit, which these stay far inside). ` +
      `A short text (${f.plaintextContentBytes} bytes of content as JSON) becomes ${g2.applicationBase64Bytes} bytes of content: the same 1 write unit and 1 API Gateway unit per message. The CPU is spent on the devices, not in Lambda.`,
    '',
    '| Devices in the group | Application message (bytes, binary) | Encrypt (ms) | Decrypt (ms, per receiving device) | Key rotation commit (bytes) | Commit (ms) | Welcome for all but one (bytes) |',
    '|---|---|---|---|---|---|---|',
    ...f.groups.map((g) => `| ${g.devices} | ${g.applicationBytes} | ${f1(g.encryptMs)} | ${f1(g.decryptMs)} | ${g.commitBytes} | ${f1(g.commitMs)} | ${g.welcomeBytes.toLocaleString('en-US')} |`),
    '',
    `An application message's size and cost do not depend on the group's (the sender's key comes from the secret tree). A commit right after many devices were added is encrypted to each of them (their parent nodes are still blank) and shrinks towards the logarithm of the group as devices commit. ` +
      `A Welcome carries the group's ratchet tree, about ${Math.round(f.groups.at(-1)!.welcomeBytes / f.groups.at(-1)!.devices)} bytes per device: past about ${Math.floor((12 * 1024) / (f.groups.at(-1)!.welcomeBytes / f.groups.at(-1)!.devices))} devices it exceeds the ${12} KB an MLS message may have inline as content, ` +
      `as a commit does past about ${Math.floor((12 * 1024) / (f.groups.at(-1)!.commitBytes / f.groups.at(-1)!.devices))} devices; such a message travels as a \`message/mls\` media object referenced by key, size and SHA-256 (one upload by the committer, one download per receiving device), up to 4 MB. ` +
      `Generating a key package takes ${f1(f.keyPackageMs)} ms and ${f.keyPackageBytes} bytes in the directory.`,
    '',
  ];
}
