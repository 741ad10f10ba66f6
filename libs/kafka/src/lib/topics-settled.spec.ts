import { describe, expect, it } from 'vitest';
import { waitWhileTopicsSettle } from '@grantstream/kafkajs-extended';

/** A broker error as kafkajs raises it: only its `type` matters here. */
const brokerError = (type: string) => Object.assign(new Error(type), { type });

/** `fn` that throws the given errors in turn, then answers `answer`. */
function answering<T>(errors: readonly Error[], answer: T) {
  let calls = 0;
  return {
    fn: () => {
      calls += 1;
      const e = errors[calls - 1];
      return e ? Promise.reject(e) : Promise.resolve(answer);
    },
    calls: () => calls,
  };
}

describe('waitWhileTopicsSettle (createTopics with waitForLeaders)', () => {
  it('waits out a broker that has not yet learned of the new topic, then answers', async () => {
    const metadata = answering(
      [
        brokerError('UNKNOWN_TOPIC_OR_PARTITION'),
        brokerError('UNKNOWN_TOPIC_OR_PARTITION'),
        brokerError('LEADER_NOT_AVAILABLE'),
      ],
      { topics: ['t'] },
    );
    await expect(waitWhileTopicsSettle(metadata.fn, { delay: 1, maxWait: 5000 })).resolves.toEqual({
      topics: ['t'],
    });
    expect(metadata.calls()).toBe(4);
  });

  it('fails at once on any other error', async () => {
    const metadata = answering([brokerError('TOPIC_AUTHORIZATION_FAILED')], {});
    await expect(waitWhileTopicsSettle(metadata.fn, { delay: 1, maxWait: 5000 })).rejects.toThrow(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(metadata.calls()).toBe(1);
  });

  it('gives up after maxWait when the topic never settles', async () => {
    const never = () => Promise.reject(brokerError('UNKNOWN_TOPIC_OR_PARTITION'));
    await expect(
      waitWhileTopicsSettle(never, { delay: 5, maxWait: 100, timeoutMessage: 'no leaders' }),
    ).rejects.toThrow('no leaders');
  });
});
