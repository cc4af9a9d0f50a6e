// Sends webhook deliveries: each is a row (store/webhooks.ts) until a receiver answers 2xx or its attempts run
// out. One attempt is a signed POST with a 10 s limit; a failure is retried after an exponential backoff. The
// sender wakes when an event is enqueued and when the next retry is due, and on start it picks up what a
// previous server left pending. Nothing here ever blocks the request or the task that caused the event.
import { createHmac } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Store, WebhookDeliveryRow, WebhookRow } from '../../store/index.ts';
import type { MasterKey } from '../master-key.ts';
import {
  WEBHOOK_BACKOFF_BASE_MS,
  WEBHOOK_MAX_ATTEMPTS,
  WEBHOOK_TIMEOUT_MS,
} from '../../protocol/webhooks.ts';

export interface WebhookSenderOptions {
  maxAttempts?: number;
  backoffBaseMs?: number;
  timeoutMs?: number;
}

/** Longest wait between two retries, however many came before. */
const BACKOFF_CAP_MS = 10 * 60_000;
/** Deliveries taken per pass. */
const BATCH = 20;
/** Delivered and failed deliveries are kept this long for the delivery log, then removed. */
export const WEBHOOK_DELIVERY_RETENTION_MS = 30 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
/** Sleep at most this long between passes: other replicas enqueue deliveries this one hears nothing of. */
const IDLE_RECHECK_MS = 30_000;

/** The `X-Baton-Signature` value of `body` under `secret`. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Master-key name of a webhook's secret: a ciphertext cannot be moved to another webhook. */
export function secretName(webhookId: string): string {
  return `webhook:${webhookId}`;
}

export function backoffMs(attempt: number, base: number): number {
  return Math.min(BACKOFF_CAP_MS, base * 2 ** (attempt - 1));
}

export class WebhookSender {
  readonly #store: Store;
  readonly #key: MasterKey;
  readonly #log: FastifyBaseLogger;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #timeoutMs: number;
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #prunedAt = 0;

  constructor(o: { store: Store; masterKey: MasterKey; log: FastifyBaseLogger } & WebhookSenderOptions) {
    this.#store = o.store;
    this.#key = o.masterKey;
    this.#log = o.log;
    this.#maxAttempts = o.maxAttempts ?? WEBHOOK_MAX_ATTEMPTS;
    this.#backoffBaseMs = o.backoffBaseMs ?? WEBHOOK_BACKOFF_BASE_MS;
    this.#timeoutMs = o.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  }

  /** Starts sending what is pending, a previous server's leftovers included. */
  start(): void {
    this.kick();
  }

  /** Deliveries were enqueued (or are due): send now. */
  kick(): void {
    if (this.#stop.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#running = this.#pass()
      .catch((err: unknown) => this.#log.warn({ err }, 'webhook deliveries: a pass failed; retrying later'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        } else void this.#schedule();
      });
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #schedule(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    let wait = IDLE_RECHECK_MS;
    try {
      const due = await this.#store.webhooks.nextDue();
      if (due !== null) wait = Math.min(wait, Math.max(0, due - Date.now()));
    } catch (err) {
      this.#log.warn({ err }, 'webhook deliveries: cannot read the next due time');
    }
    if (this.#stop.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), wait + 5);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (Date.now() - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = Date.now();
      await this.#store.webhooks.pruneFinished(Date.now() - WEBHOOK_DELIVERY_RETENTION_MS);
    }
    for (;;) {
      const now = Date.now();
      // Held past one attempt's limit: if this server dies mid-attempt, another (or its restart) retries then.
      const taken = await this.#store.webhooks.take(now, now + this.#timeoutMs + 5_000, BATCH);
      if (taken.length === 0) return;
      await Promise.all(taken.map((t) => this.#attempt(t.delivery, t.webhook)));
      if (this.#stop.signal.aborted) return;
    }
  }

  async #attempt(delivery: WebhookDeliveryRow, webhook: WebhookRow): Promise<void> {
    const attempt = delivery.attempts + 1;
    const started = performance.now();
    const at = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const secret = this.#key.decrypt(secretName(webhook.id), webhook.sealed_secret);
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'baton-webhook',
          'x-baton-event': delivery.event,
          'x-baton-delivery': delivery.id,
          'x-baton-signature': signature(secret, delivery.payload),
        },
        body: delivery.payload,
        // A redirect could lead the server anywhere: it counts as a failed attempt, never followed.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#stop.signal]),
      });
      statusCode = res.status;
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) error = `the receiver answered ${res.status}`;
    } catch (err) {
      if (this.#stop.signal.aborted) return; // left held: retried after a restart, when the hold ends
      error = describe(err, this.#timeoutMs);
    }
    const durationMs = Math.round(performance.now() - started);
    const ok = error === null;
    const outcome = ok
      ? ({ status: 'delivered', at: Date.now() } as const)
      : attempt >= this.#maxAttempts
        ? ({ status: 'failed', at: Date.now() } as const)
        : ({ status: 'pending', retryAt: Date.now() + backoffMs(attempt, this.#backoffBaseMs) } as const);
    await this.#store.webhooks.recordAttempt(
      { delivery_id: delivery.id, attempt, at, status_code: statusCode, duration_ms: durationMs, error },
      outcome,
    );
    if (!ok)
      this.#log.warn(
        { webhookId: webhook.id, deliveryId: delivery.id, attempt, statusCode, error },
        outcome.status === 'failed'
          ? `webhook delivery failed after ${attempt} attempts`
          : 'webhook delivery attempt failed; retrying with backoff',
      );
  }
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'request failed'}: ${cause}` : (e.message ?? String(err));
}
