import { describe, expect, it } from 'vitest';
import { collectApi, MAX_AUDIENCE_CHARS, MAX_MESSAGE_CHARS, MAX_NOTIFICATIONS } from './script-api.ts';
import { literalScript } from './task.ts';

const notify = (i: number, v: Record<string, unknown>) =>
  [`automn_notify_1_${i}`, JSON.stringify(v)] as const;

describe('collectApi', () => {
  it('keeps upstream limits: 50 notifications, 2,000-character messages, 256-character audiences', () => {
    const outputs = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) =>
        notify(i, { audience: ` ${'a'.repeat(300)} `, message: 'm'.repeat(2500), level: 'warning' }),
      ),
    );
    const api = collectApi(outputs);
    expect(api.notifications).toHaveLength(MAX_NOTIFICATIONS);
    expect(api.notifications[0]!.audience).toBe('a'.repeat(MAX_AUDIENCE_CHARS));
    expect(api.notifications[0]!.message).toBe('m'.repeat(MAX_MESSAGE_CHARS));
    expect(api.notifications[0]!.level).toBe('warn');
    expect(api.notifications.map((n) => n.order)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('the first return wins; a shell return that is not JSON is reported, not guessed', () => {
    expect(
      collectApi({ automn_return_1_1: '{"value":{"a":1}}', automn_return_1_2: '{"value":2}' }).returnData,
    ).toEqual({ a: 1 });
    const bad = collectApi({ automn_return_1_1: '{"json":"{oops"}' });
    expect([bad.returnData, bad.badReturn]).toEqual([null, '{oops']);
  });

  it('normalises logs as upstream: level, lower-cased type, context object', () => {
    const api = collectApi({
      automn_log_1_1: JSON.stringify({ message: 'x', level: 'warning', context: 3, type: 'Audit' }),
      automn_log_1_2: JSON.stringify({ message: 'y', level: 'odd', contextJson: '{"k":1}', type: 'general' }),
      other_output: 'ignored',
    });
    expect(api.logs.map(({ timestamp: _t, ...l }) => l)).toEqual([
      { message: 'x', level: 'warn', type: 'audit', context: { value: 3 }, order: 0 },
      { message: 'y', level: 'info', type: 'general', context: { k: 1 }, order: 1 },
    ]);
  });
});

describe('literalScript', () => {
  it('turns every ${{ into an expression whose value is the literal text', () => {
    expect(literalScript('echo ${{ x }} ${{')).toBe("echo ${{ '${{' }} x }} ${{ '${{' }}");
  });
});
