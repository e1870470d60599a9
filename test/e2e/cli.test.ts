/**
 * `npm start` as a newcomer uses it: the printed URLs and admin secret work, state
 * survives a restart, the reset command clears it, and Ctrl-C stops everything the
 * runtime started, the Java process of DynamoDB Local included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, javaProcessesFor, startChildRuntime } from '../support/child-runtime';
import { Admin, Device, eventually } from '../support/cirrus';

const dataDir = mkdtempSync(join(tmpdir(), 'cirrus-cli-'));
const start = (port: number, ...args: string[]) => startChildRuntime(port, dataDir, { logLevel: 'warn', args });
const tsxCli = join('node_modules', 'tsx', 'dist', 'cli.mjs');

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('prints working URLs and admin secret, runs the first-message walkthrough, keeps state across a restart, and stops Java on Ctrl-C', async () => {
    const port = await freePort();
    const first = await start(port);
    const secret = /Admin secret: (\S+)/.exec(first.output())![1];
    const admin = new Admin(`http://127.0.0.1:${port}/api`, secret);
    await admin.register('kim', 'lee');
    const kim = await Device.connect(`ws://127.0.0.1:${port}/ws`, await admin.userToken('kim'));
    const ack = await kim.ok('sendMsg', { clientMsgId: 'persist', recvId: 'lee', contentType: 101, content: { text: 'still here?' } });
    await kim.close();
    expect(javaProcessesFor(dataDir).length).toBeGreaterThan(0);
    const walkthrough = execFileSync(process.execPath, [tsxCli, 'scripts/first-message.ts', '--api', `http://127.0.0.1:${port}/api`, '--data-dir', dataDir], { encoding: 'utf8' });
    expect(walkthrough).toMatch(/alice gets the ack .*"seq":1/);
    expect(walkthrough).toMatch(/bob gets the push .*"push":"newMsg".*Hello, Bob!/);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(javaProcessesFor(dataDir)).toEqual([]);

    const second = await start(port);
    expect(second.output()).toContain(`Admin secret: ${secret}`);
    const lee = await Device.connect(`ws://127.0.0.1:${port}/ws`, await new Admin(`http://127.0.0.1:${port}/api`, secret).userToken('lee'));
    const pulled = await lee.ok('pullMsgs', { conversationId: ack.conversationId, fromSeq: 1, toSeq: 10 });
    expect(pulled.messages.map((m: { content: unknown }) => m.content)).toEqual([{ text: 'still here?' }]);
    await lee.close();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(javaProcessesFor(dataDir)).toEqual([]);

    execFileSync(process.execPath, ['--import', 'tsx', 'local/main.ts', '--reset-only', '--data-dir', dataDir]);
    expect(existsSync(dataDir)).toBe(false);
  }, 300_000);
});
