import Redis from 'ioredis';

/**
 * The errors Bottleneck's Lua scripts raise when a process's limiter state
 * is gone from Redis, and that its RedisDatastore recovers from (re-running
 * `init` or `register_client`, then the script again): the limiter's keys
 * expired after `timeout` without a call, or another process's tick dropped
 * this client after a heartbeat came later than `clientTimeout` (a busy
 * event loop).
 */
const BOTTLENECK_SENTINELS = new Set(['SETTINGS_KEY_NOT_FOUND', 'UNKNOWN_CLIENT']);

/**
 * The bare sentinel of a script error Redis 7 prefixed with `ERR `, or
 * undefined. Redis 7 adds that prefix to any `redis.error_reply` without an
 * error code of its own, and Bottleneck 2.19 compares the message with the
 * bare sentinel, so without this its recovery never runs: every later call of
 * the process fails with `ERR UNKNOWN_CLIENT` until it restarts.
 */
export function bottleneckSentinelOf(message: string): string | undefined {
  const bare = message.startsWith('ERR ') ? message.slice(4) : message;
  return BOTTLENECK_SENTINELS.has(bare) ? bare : undefined;
}

type ScriptFn = (...args: unknown[]) => Promise<unknown>;

/**
 * The ioredis client handed to Bottleneck: its scripts' sentinel errors reach
 * Bottleneck as the bare sentinel, whatever prefix the Redis version puts on
 * them, so Bottleneck re-registers the client or re-creates the settings.
 * Every other error and every reply passes unchanged.
 */
export class BottleneckRedis extends Redis {
  override defineCommand(
    name: string,
    definition: { lua: string; numberOfKeys?: number; readOnly?: boolean },
  ): void {
    super.defineCommand(name, definition);
    const self = this as unknown as Record<string, ScriptFn>;
    const script = self[name];
    if (typeof script !== 'function') return;
    self[name] = (...args: unknown[]) => {
      // Bottleneck passes a node-style callback last; ioredis also returns a promise.
      const last = args.at(-1);
      const callback =
        typeof last === 'function' ? (args.pop() as (e: unknown, r?: unknown) => void) : undefined;
      const reply = script.apply(this, args).catch((err: unknown) => {
        if (err instanceof Error) {
          const sentinel = bottleneckSentinelOf(err.message);
          if (sentinel !== undefined) err.message = sentinel;
        }
        throw err;
      });
      if (!callback) return reply;
      return reply.then(
        (r) => callback(null, r),
        (e: unknown) => callback(e),
      );
    };
  }
}
