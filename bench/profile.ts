/**
 * Where the runtime's CPU goes, from V8's sampling profiler (node:inspector): each
 * sample's top frame is attributed to Cirrus's handlers (core/, functions/, and the AWS
 * SDK they call), the local stand-ins, PGlite, the gateway's WebSocket library, Node's
 * internals, or garbage collection and idle.
 */
import { Session } from 'node:inspector/promises';

export type Bucket = 'cirrus' | 'awsSdk' | 'standIns' | 'pglite' | 'websocket' | 'node' | 'gc' | 'idle' | 'other';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
}

function bucketOf(node: ProfileNode): Bucket {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (url.includes('@aws-sdk') || url.includes('@smithy') || url.includes('@aws-crypto')) return 'awsSdk';
  if (url.includes('pglite')) return 'pglite';
  if (url.includes('/node_modules/ws/')) return 'websocket';
  if (url.includes('/core/') || url.includes('/functions/') || url.includes('/node_modules/zod/')) return 'cirrus';
  if (url.includes('/local/')) return 'standIns';
  if (url.startsWith('node:') || url === '' || functionName === '(program)') return 'node';
  return 'other';
}

export class CpuProfile {
  private readonly session = new Session();

  async start(): Promise<void> {
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.session.post('Profiler.start');
  }

  /** The frames with the most CPU (self time, ms) of the last profile, for finding hot spots. */
  top: { frame: string; bucket: Bucket; ms: number }[] = [];

  /** Milliseconds of CPU per bucket. */
  async stop(): Promise<Record<Bucket, number>> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
    this.session.disconnect();
    const buckets = new Map(profile.nodes.map((n) => [n.id, bucketOf(n)]));
    const out: Record<Bucket, number> = { cirrus: 0, awsSdk: 0, standIns: 0, pglite: 0, websocket: 0, node: 0, gc: 0, idle: 0, other: 0 };
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      out[buckets.get(id) ?? 'other'] += ms;
      self.set(id, (self.get(id) ?? 0) + ms);
    });
    const byFrame = new Map<string, { bucket: Bucket; ms: number }>();
    for (const node of profile.nodes) {
      const ms = self.get(node.id);
      if (!ms) continue;
      const frame = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(core|functions|local)\//, '$1/')}`;
      const e = byFrame.get(frame) ?? { bucket: buckets.get(node.id)!, ms: 0 };
      e.ms += ms;
      byFrame.set(frame, e);
    }
    this.top = [...byFrame].map(([frame, v]) => ({ frame, ...v })).sort((a, b) => b.ms - a.ms).slice(0, 25);
    return out;
  }
}
