/** The load-generating child process (`load-clients.ts`), driven over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export class LoadClients {
  private constructor(private readonly child: ChildProcess) {}

  static start(): LoadClients {
    const child = fork(join(process.cwd(), 'bench', 'load-clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new LoadClients(child);
  }

  send<T = any>(msg: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      this.child.once('message', (reply: any) => (reply.ok ? resolve(reply as T) : reject(new Error(reply.error))));
      this.child.send(msg as never);
    });
  }

  async stop(): Promise<void> {
    await this.send({ cmd: 'close' }).catch(() => {});
    this.child.kill();
  }
}
