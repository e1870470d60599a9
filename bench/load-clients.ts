/**
 * The benchmark's clients, in a process of their own so that their CPU is not counted as
 * Cirrus's. Driven over IPC by the latency and fan-out suites:
 * - `connect` {wsUrl, tokens}: opens every connection (replies `connected`);
 * - `load` {rate, seconds}: client i sends 1:1 text messages to client i^1 at `rate` a
 *   second overall; each push's latency is measured here (send and receive share a clock);
 * - `fanout` {groupId, receivers}: client 0 sends one group message; replies with the
 *   time until each of the first `receivers` other clients got it.
 */
import WebSocket from 'ws';

type Command =
  | { cmd: 'connect'; wsUrl: string; tokens: { userId: string; token: string }[] }
  | { cmd: 'load'; rate: number; seconds: number }
  | { cmd: 'fanout'; groupId: string; receivers: number; tag: string }
  | { cmd: 'close' };

interface Conn {
  userId: string;
  socket: WebSocket;
}

const conns: Conn[] = [];
let onPush: ((i: number, frame: any) => void) | undefined;
let onReply: ((frame: any) => void) | undefined;
const reply = (msg: unknown) => process.send!(msg);

async function connect(wsUrl: string, tokens: { userId: string; token: string }[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < tokens.length) {
        const i = next++;
        const socket = await new Promise<WebSocket>((resolve, reject) => {
          const s = new WebSocket(`${wsUrl}?token=${encodeURIComponent(tokens[i].token)}`);
          s.once('open', () => resolve(s));
          s.once('error', reject);
        });
        socket.on('message', (data) => {
          const frame = JSON.parse(data.toString());
          if (frame.push === 'newMsg') onPush?.(i, frame);
          else if (frame.id) onReply?.(frame);
        });
        conns[i] = { userId: tokens[i].userId, socket };
      }
    }),
  );
}

async function load(rate: number, seconds: number) {
  const latencies: number[] = [];
  let sent = 0;
  let acked = 0;
  let errors = 0;
  let lastReceive = 0;
  onPush = (_i, frame) => {
    const t = Number((frame.data.content as { text: string }).text);
    if (Number.isFinite(t)) {
      latencies.push(performance.now() - t);
      lastReceive = performance.now();
    }
  };
  onReply = (frame) => {
    if (frame.error) errors++;
    else acked++;
  };
  const start = performance.now();
  const pairs = conns.length - (conns.length % 2);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * rate);
      while (sent < due) {
        const i = sent % pairs;
        const to = conns[i ^ 1];
        conns[i].socket.send(JSON.stringify({ id: `l${sent}`, action: 'sendMsg', data: { clientMsgId: `l${sent}-${start}`, recvId: to.userId, contentType: 101, content: { text: String(performance.now()) } } }));
        sent++;
      }
    }, 2);
  });
  // Drain: wait for the stragglers, at most 15 s.
  const until = performance.now() + 15_000;
  while (latencies.length + errors < sent && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  return { sent, acked, errors, received: latencies.length, latencies, seconds: (Math.max(lastReceive, start) - start) / 1000 };
}

async function fanout(groupId: string, receivers: number, tag: string) {
  const arrivals: number[] = [];
  const got = new Set<number>();
  let t0 = 0;
  const done = new Promise<void>((resolve) => {
    onPush = (i, frame) => {
      if (i === 0 || got.has(i) || (frame.data.content as { text?: string }).text !== tag) return;
      got.add(i);
      arrivals.push(performance.now() - t0);
      if (got.size >= receivers) resolve();
    };
  });
  onReply = () => {};
  t0 = performance.now();
  conns[0].socket.send(JSON.stringify({ id: `f-${tag}`, action: 'sendMsg', data: { clientMsgId: `f-${tag}`, groupId, contentType: 101, content: { text: tag } } }));
  await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
  return { arrivals: arrivals.sort((a, b) => a - b), reached: got.size };
}

process.on('message', async (msg: Command) => {
  try {
    if (msg.cmd === 'connect') {
      await connect(msg.wsUrl, msg.tokens);
      reply({ ok: true, connected: conns.length });
    } else if (msg.cmd === 'load') reply({ ok: true, ...(await load(msg.rate, msg.seconds)) });
    else if (msg.cmd === 'fanout') reply({ ok: true, ...(await fanout(msg.groupId, msg.receivers, msg.tag)) });
    else if (msg.cmd === 'close') {
      await Promise.all(conns.map((c) => new Promise<void>((r) => (c.socket.once('close', () => r()), c.socket.close()))));
      reply({ ok: true });
      process.exit(0);
    }
  } catch (err) {
    reply({ ok: false, error: String((err as Error).stack ?? err) });
  }
});
