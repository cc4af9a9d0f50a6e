// In-process events: tasks queued and runners' changed reports (wake long-polling runners), run and task transitions, log chunks stored.
// Listeners are called synchronously after the store committed; they must not throw.
import { EventEmitter } from 'node:events';
import type { RunEvent, StepsEvent } from '../protocol/api.ts';

export interface LogEvent {
  runId: string;
  task: string;
  taskId: string;
  attempt: number;
  seq: number;
  offset: number;
  data: string;
}

/** What a run's followers receive: a transition, a stored log chunk, or a running task's steps. */
export type RunMessage =
  | { kind: 'event'; event: RunEvent }
  | { kind: 'log'; log: LogEvent }
  | { kind: 'steps'; steps: StepsEvent & { runId: string } };

export class Hub {
  #emitter = new EventEmitter();
  /** Increases on every queued-task event; a waiter compares it to learn whether it missed a wake-up. */
  #queueGeneration = 0;

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  get queueGeneration(): number {
    return this.#queueGeneration;
  }

  tasksQueued(count: number): void {
    if (count <= 0) return;
    this.#queueGeneration++;
    this.#emitter.emit('queued', count);
    this.#emitter.emit('queued-for-dispatcher', count);
  }

  /**
   * Tasks were queued, for the server's own push dispatcher: a listener of its own, so `waitingAcquires`
   * still counts only the runners' held acquires.
   */
  onQueuedForDispatcher(fn: (count: number) => void): () => void {
    this.#emitter.on('queued-for-dispatcher', fn);
    return () => this.#emitter.off('queued-for-dispatcher', fn);
  }

  /**
   * A runner's status report changed what it can take (a sandbox, a network cut, limits): its own held long poll
   * claims again with the new report. Counts as a queue generation too, so a claim that raced the report retries.
   */
  runnerChanged(runnerId: string): void {
    this.#queueGeneration++;
    this.#emitter.emit(`runner:${runnerId}`);
  }

  onRunnerChanged(runnerId: string, fn: () => void): () => void {
    this.#emitter.on(`runner:${runnerId}`, fn);
    return () => this.#emitter.off(`runner:${runnerId}`, fn);
  }

  /** Long polls waiting for a task right now. */
  get waitingAcquires(): number {
    return this.#emitter.listenerCount('queued');
  }

  onQueued(fn: (count: number) => void): () => void {
    this.#emitter.on('queued', fn);
    return () => this.#emitter.off('queued', fn);
  }

  runEvent(e: RunEvent): void {
    this.#emitter.emit(`run:${e.runId}`, { kind: 'event', event: e });
    this.#emitter.emit('any-run-event', e);
  }

  /** Every run and task transition of every run (metrics count them; webhooks send them). */
  onAnyRunEvent(fn: (e: RunEvent) => void): () => void {
    this.#emitter.on('any-run-event', fn);
    return () => this.#emitter.off('any-run-event', fn);
  }

  /** Whether anyone follows run `runId` here (a stored log chunk need not be decoded for nobody). */
  followed(runId: string): boolean {
    return this.#emitter.listenerCount(`run:${runId}`) > 0;
  }

  log(e: LogEvent): void {
    this.#emitter.emit(`run:${e.runId}`, { kind: 'log', log: e });
  }

  /** A running task's steps so far (the live step view of followers). */
  steps(e: StepsEvent & { runId: string }): void {
    this.#emitter.emit(`run:${e.runId}`, { kind: 'steps', steps: e });
  }

  onRun(runId: string, fn: (m: RunMessage) => void): () => void {
    this.#emitter.on(`run:${runId}`, fn);
    return () => this.#emitter.off(`run:${runId}`, fn);
  }
}
