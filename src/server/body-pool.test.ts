// pooledBodyParser: bodies read into reused buffers arrive whole and only their own bytes, one after another and
// side by side; a body past the pooled size is collected; one past the limit is refused with 413 naming both.
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { POOLED_BODY_BYTES, pooledBodyParser } from './body-pool.ts';
import { BatonError } from '../protocol/errors.ts';

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** An app whose PUT /echo answers with the body's length and sha of its bytes, after an await. */
async function echoApp(limit: number) {
  const app = Fastify();
  apps.push(app);
  app.setErrorHandler((err, _req, reply) => {
    const status = err instanceof BatonError ? 413 : 500;
    void reply.code(status).send({ message: err instanceof Error ? err.message : String(err) });
  });
  pooledBodyParser(app, 'application/octet-stream', limit);
  app.put('/echo', async (req) => {
    const body = req.body as Buffer;
    await new Promise((r) => setTimeout(r, 5)); // another request may be read meanwhile
    return { length: body.length, text: body.toString('latin1') };
  });
  await app.ready();
  return app;
}

const put = (app: Awaited<ReturnType<typeof echoApp>>, payload: Buffer) =>
  app.inject({
    method: 'PUT',
    url: '/echo',
    headers: { 'content-type': 'application/octet-stream' },
    payload,
  });

describe('pooledBodyParser', () => {
  it('gives each request exactly its own bytes, when buffers are reused and when requests overlap', async () => {
    const app = await echoApp(16 * 1024 * 1024);
    const long = Buffer.alloc(300_000, 'a');
    const short = Buffer.from('bbb');
    for (const body of [long, short, long, short]) {
      const res = await put(app, body);
      expect(res.json()).toEqual({ length: body.length, text: body.toString('latin1') });
    }
    const bodies = Array.from({ length: 12 }, (_, i) =>
      Buffer.alloc(1000 + i * 5000, String.fromCharCode(99 + i)),
    );
    const answers = await Promise.all(bodies.map((b) => put(app, b)));
    answers.forEach((res, i) =>
      expect(res.json()).toEqual({ length: bodies[i]!.length, text: bodies[i]!.toString('latin1') }),
    );
  });

  it('collects a body larger than a pooled buffer, and refuses one over the limit with 413', async () => {
    const app = await echoApp(POOLED_BODY_BYTES * 2);
    const big = Buffer.alloc(POOLED_BODY_BYTES + 12345, 'z');
    const res = await put(app, big);
    expect(res.json()).toMatchObject({ length: big.length });
    expect((res.json() as { text: string }).text).toBe(big.toString('latin1'));
    const over = await put(app, Buffer.alloc(POOLED_BODY_BYTES * 2 + 1, 'o'));
    expect(over.statusCode).toBe(413);
    expect(over.json()).toEqual({
      message: `the request body is ${POOLED_BODY_BYTES * 2 + 1} bytes; the limit is ${POOLED_BODY_BYTES * 2} bytes per request`,
    });
  });
});
