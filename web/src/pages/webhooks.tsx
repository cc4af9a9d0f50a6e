// Webhooks (admin): the server's webhooks with their delivery logs (each attempt's status code, duration and
// error), and a form to add one. Its secret is shown once, when it is created.
import { useEffect, useState } from 'preact/hooks';
import { api, enc } from '../api.ts';
import { formatTime } from '../format.ts';
import type { CreateWebhookResponse, WebhookDelivery, WebhookView } from '../../../src/protocol/webhooks.ts';

function Deliveries({ id }: { id: string }) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api<{ deliveries: WebhookDelivery[] }>('GET', `/api/v1/webhooks/${enc(id)}/deliveries`)
      .then((r) => setDeliveries(r.deliveries))
      .catch((e: Error) => setError(e.message));
  }, [id]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!deliveries) return null;
  if (deliveries.length === 0) return <p class="empty">No deliveries yet.</p>;
  return (
    <div class="table-scroll">
      <table data-deliveries={id}>
        <caption class="sr-only">Deliveries</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Attempts (status code, duration, error)</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.map((d) => (
            <tr key={d.id} data-delivery={d.id}>
              <td class="mono">{d.event}</td>
              <td>
                {d.status}
                {d.nextAttemptAt ? ` (next ${formatTime(d.nextAttemptAt)})` : ''}
              </td>
              <td>{formatTime(d.createdAt)}</td>
              <td>
                <ol>
                  {d.attempts.map((a) => (
                    <li key={a.attempt}>
                      {a.statusCode ?? '—'} · {a.durationMs} ms{a.error ? ` · ${a.error}` : ''}
                    </li>
                  ))}
                </ol>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function WebhooksPage({ canAdmin }: { canAdmin: boolean }) {
  const [hooks, setHooks] = useState<WebhookView[]>();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('run.finished,task.failed');
  const [open, setOpen] = useState<string>();
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<CreateWebhookResponse>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!canAdmin) return;
    api<{ webhooks: WebhookView[] }>('GET', '/api/v1/webhooks')
      .then((r) => setHooks(r.webhooks))
      .catch((e: Error) => setError(e.message));
  }, [tick, canAdmin]);

  if (!canAdmin)
    return (
      <main id="main">
        <h1>Webhooks</h1>
        <p class="help">Only admins see and manage webhooks.</p>
      </main>
    );
  return (
    <main id="main">
      <h1>Webhooks</h1>
      <p class="help">
        The server POSTs a JSON event to each webhook, signed with{' '}
        <code>X-Baton-Signature: sha256=&lt;HMAC-SHA256 of the body&gt;</code> under its secret, and retries a
        failed delivery with backoff.
      </p>
      <form
        class="card inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            const r = await api<CreateWebhookResponse>('POST', '/api/v1/webhooks', {
              url,
              events: events
                .split(',')
                .map((x) => x.trim())
                .filter(Boolean),
            });
            setCreated(r);
            setUrl('');
            setTick((n) => n + 1);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <h2>Add a webhook</h2>
        <label for="webhook-url">URL</label>
        <input
          id="webhook-url"
          required
          type="url"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
        />
        <label for="webhook-events">Events</label>
        <input
          id="webhook-events"
          required
          value={events}
          onInput={(e) => setEvents(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Add webhook
        </button>
      </form>
      {created && (
        <p role="status">
          Webhook {created.webhook.id} added. Its signing secret, shown only now:{' '}
          <code class="mono">{created.secret}</code>
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(hooks ?? []).map((w) => (
              <tr key={w.id} data-webhook={w.id}>
                <td class="mono">{w.url}</td>
                <td>{w.events.join(', ')}</td>
                <td>{formatTime(w.createdAt)}</td>
                <td>
                  <button type="button" onClick={() => setOpen(open === w.id ? undefined : w.id)}>
                    Deliveries<span class="sr-only"> of {w.url}</span>
                  </button>{' '}
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      try {
                        await api('DELETE', `/api/v1/webhooks/${enc(w.id)}`);
                        setTick((n) => n + 1);
                      } catch (err) {
                        setError((err as Error).message);
                      }
                    }}
                  >
                    Remove<span class="sr-only"> {w.url}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hooks?.length === 0 && <p class="empty">No webhooks yet.</p>}
      {open && (
        <section>
          <h2>Deliveries of {hooks?.find((w) => w.id === open)?.url}</h2>
          <Deliveries key={open} id={open} />
        </section>
      )}
    </main>
  );
}
