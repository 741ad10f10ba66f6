/**
 * `work`'s result, or `fallback` once `ms` have passed without one; the timer
 * is cleared either way. `work` itself is not cancelled: callers use this
 * where a late answer may be ignored (a probe, a scrape, a bounded shutdown).
 */
export async function within<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
