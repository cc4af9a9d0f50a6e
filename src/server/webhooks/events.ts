// Turns run and task transitions into webhook deliveries: server webhooks by the events they chose, and a
// runner's own webhook when the server gives that runner a task (`start`) and when the task ends (`finish`).
// Called after the store committed the transition; the deliveries are rows, sent later by the WebhookSender,
// so a slow or dead receiver never delays a task.
import type { RunEvent } from '../../protocol/api.ts';
import { isTerminal } from '../../protocol/status.ts';
import type { RunnerWebhookPayload } from '../../protocol/webhooks.ts';
import type { Store, WebhookDeliveryRow } from '../../store/index.ts';
import { newId } from '../../store/ids.ts';

/** The webhook events one transition is (`task.failed` and `task.finished`, …). */
export function eventsOf(e: RunEvent): string[] {
  const names = [`${e.type}.${e.status}`];
  if (isTerminal(e.status)) names.push(`${e.type}.finished`);
  return names;
}

export async function enqueueFor(store: Store, e: RunEvent, now: number): Promise<number> {
  // One read per transition when nothing is subscribed (the hot path of a busy server with no webhooks).
  const hooks = await store.webhooks.all();
  if (hooks.length === 0) return 0;
  const rows: WebhookDeliveryRow[] = [];
  const at = new Date(now).toISOString();
  for (const event of eventsOf(e)) {
    const subscribed = hooks.filter(
      (w) => !w.runner_id && (JSON.parse(w.events) as string[]).includes(event),
    );
    for (const hook of subscribed) {
      const id = newId(now);
      const payload = {
        id,
        event,
        at,
        runId: e.runId,
        ...(e.task !== undefined ? { task: e.task } : {}),
        status: e.status,
        ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
        ...(e.runner !== undefined ? { runner: e.runner } : {}),
        ...(e.message !== undefined ? { message: e.message } : {}),
      };
      rows.push(delivery(id, hook.id, event, JSON.stringify(payload), now));
    }
  }
  const runnerHooks = hooks.filter((w) => w.runner_id);
  if (
    runnerHooks.length > 0 &&
    e.type === 'task' &&
    e.task !== undefined &&
    (e.status === 'running' || isTerminal(e.status))
  ) {
    const task = await store.webhooks.taskOf(e.runId, e.task);
    const hook = task?.runner_id ? runnerHooks.find((w) => w.runner_id === task.runner_id) : undefined;
    if (task?.runner_id && hook) {
      const payload: RunnerWebhookPayload = {
        action: e.status === 'running' ? 'start' : 'finish',
        runId: e.runId,
        taskId: task.id,
        runnerId: task.runner_id,
        ...(e.status === 'running' ? {} : { status: e.status }),
        at,
      };
      rows.push(delivery(newId(now), hook.id, `runner.${payload.action}`, JSON.stringify(payload), now));
    }
  }
  await store.webhooks.enqueue(rows);
  return rows.length;
}

function delivery(
  id: string,
  webhookId: string,
  event: string,
  payload: string,
  now: number,
): WebhookDeliveryRow {
  return {
    id,
    webhook_id: webhookId,
    event,
    payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    created_at: now,
    finished_at: null,
  };
}
