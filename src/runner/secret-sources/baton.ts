// The `baton` secret source: a secret from Baton's own store. The server seals it to this runner with the
// task, as any `${{ secrets.NAME }}` (the workflow compiles `name` into `value: ${{ secrets.NAME }}`), so by
// the time this runs the value is already here, evaluated.
import { SecretSourceError, type SecretSource } from '../../engine/index.ts';

export const batonSource: SecretSource = {
  name: 'baton',
  fetch(spec) {
    const name = String(spec.name);
    const value = spec.value;
    if (typeof value !== 'string' || value === '')
      return Promise.reject(
        new SecretSourceError(
          `the Baton secret '${name}' is not set on the server; set it with \`baton secrets set ${name}\``,
        ),
      );
    return Promise.resolve({ value });
  },
};
