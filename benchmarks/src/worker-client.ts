import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { WorkerState } from './tasks.js';

/** A request that failed: the worker's message, and the memory it held then when it said. */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly state?: WorkerState,
  ) {
    super(message);
  }
}

/** Lines of a worker's stderr kept to explain its end ("Aborted(OOM)" is printed, not replied). */
const STDERR_TAIL_LINES = 5;

/**
 * A benchmark worker in its own process (FisherLab on one backend, or PyTorch), driven by one JSON
 * request per line on its stdin and answering one JSON line per request on stdout. Only one side
 * computes at a time: the suite waits for each reply before asking the other side.
 */
export class WorkerClient {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: string | undefined;
  private readonly stderrTail: string[] = [];

  constructor(
    readonly label: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      process.stderr.write(`${line}\n`);
      if (!line.trim()) return;
      this.stderrTail.push(line.trim());
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
    this.child.on('close', (code, signal) => {
      const said = this.stderrTail.length ? `; its last words: ${this.stderrTail.join(' | ')}` : '';
      // A kill on timeout or a failed start has said why already.
      this.exited ??= `${label} worker exited (code ${code}, signal ${signal})${said}`;
      for (const { reject } of this.pending.values()) reject(new Error(this.exited));
      this.pending.clear();
    });
    this.child.on('error', (error) => {
      this.exited = `${label} worker could not start: ${error.message}`;
      for (const { reject } of this.pending.values()) reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  private onLine(line: string): void {
    let reply: { id?: number; result?: unknown; error?: string; state?: WorkerState };
    try {
      reply = JSON.parse(line);
    } catch {
      process.stderr.write(`[${this.label}] ${line}\n`); // a stray print, not a reply
      return;
    }
    const waiter = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id!);
    if (reply.error !== undefined)
      waiter.reject(new WorkerError(`${this.label}: ${reply.error}`, reply.state));
    else waiter.resolve(reply.result);
  }

  hasExited(): boolean {
    return this.exited !== undefined;
  }

  /**
   * Sends one request and waits for its reply. After `timeoutMs` the worker is killed (a wasm heap
   * exhaustion on threaded wasm can hang instead of failing) and the request fails saying so.
   */
  request<T>(cmd: string, payload: object = {}, timeoutMs?: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              this.exited = `${this.label} worker killed: '${cmd}' took longer than ${timeoutMs / 1000} s`;
              this.child.kill('SIGKILL');
              reject(new Error(this.exited));
            }, timeoutMs);
      const settle =
        <V>(fn: (v: V) => void) =>
        (v: V) => {
          clearTimeout(timer);
          fn(v);
        };
      this.pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
      this.child.stdin!.write(`${JSON.stringify({ ...payload, id, cmd })}\n`);
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('exit').catch(() => undefined);
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    if (!this.exited) this.child.kill();
  }
}
