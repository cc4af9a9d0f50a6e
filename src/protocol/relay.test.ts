// The sealed relay's envelope: each recipient opens it with its own key, nobody else can, an altered box is
// refused, and an importing task gets the values where a dependency's outputs go.

import { describe, expect, it } from 'vitest';
import { makeTask } from '../engine/test-support.ts';
import { openRelayed, sealOutputs, withRelayedValues } from './relay.ts';
import { generateKeyPair } from './sealed.ts';

describe('sealed relay', () => {
  it('opens for each recipient with its own key and for no other key; an altered box is refused', async () => {
    const [a, b, stranger] = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()];
    const outputs = { value: 'pw-relay-0123456789' };
    const sealed = await sealOutputs(outputs, [
      { id: 'ra', name: 'a', publicKey: a.publicKey },
      { id: 'rb', name: 'b', publicKey: b.publicKey },
    ]);
    expect(sealed.names).toEqual(['value']);
    expect(JSON.stringify(sealed)).not.toContain('pw-relay');
    const box = { from: 'fetch', nonce: sealed.nonce, ciphertext: sealed.ciphertext };
    expect(await openRelayed({ ...box, key: sealed.keys.ra! }, a)).toEqual(outputs);
    expect(await openRelayed({ ...box, key: sealed.keys.rb! }, b)).toEqual(outputs);
    await expect(openRelayed({ ...box, key: sealed.keys.ra! }, stranger)).rejects.toThrow();
    const flipped = Buffer.from(sealed.ciphertext, 'base64url');
    flipped[0]! ^= 1;
    await expect(
      openRelayed({ ...box, ciphertext: flipped.toString('base64url'), key: sealed.keys.ra! }, a),
    ).rejects.toThrow();
  });

  it("puts the opened values in the dependency's outputs, the imports reading them and the mask", async () => {
    const keys = await generateKeyPair();
    const sealed = await sealOutputs({ value: 'pw-relay-abcdef0123' }, [
      { id: 'r', name: 'r', publicKey: keys.publicKey },
    ]);
    const task = {
      ...makeTask([{ run: 'true' }], {
        imports: [{ from: 'fetch', variable: 'value', as: 'password' }],
        context: {
          tasks: { fetch: { outputs: { value: '' }, result: 'succeeded' } },
          imports: { password: '' },
        },
      }),
      relayed: [{ from: 'fetch', nonce: sealed.nonce, ciphertext: sealed.ciphertext, key: sealed.keys.r! }],
    };
    const opened = await withRelayedValues(task, keys);
    expect(opened.context.tasks.fetch?.outputs).toEqual({ value: 'pw-relay-abcdef0123' });
    expect(opened.context.imports).toEqual({ password: 'pw-relay-abcdef0123' });
    expect(opened.context.mask).toContain('pw-relay-abcdef0123');
    await expect(withRelayedValues(task, await generateKeyPair())).rejects.toThrow(
      "cannot open the sealed outputs of task 'fetch' with this runner's key",
    );
  });
});
