import type { GrantLogger } from '@grantstream/logging';

/** What {@link closeOnSignals} needs of a Nest application: its close(). */
export interface Closable {
  close(): Promise<unknown>;
}

/** The process surface {@link closeOnSignals} uses; tests pass an EventEmitter. */
export interface SignalSource {
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

/** Options of {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  logger: GrantLogger;
  signals?: readonly NodeJS.Signals[];
  source?: SignalSource;
}

/**
 * Closes a stage app on SIGTERM/SIGINT, then exits 0 (1 if closing failed).
 * Unlike `enableShutdownHooks()`, which runs providers' `onModuleDestroy`
 * before it closes the transport, `app.close()` stops the runner first (the
 * open chunk commits or aborts), so no handler is still running when the
 * providers it uses are destroyed. Returns a function that unregisters.
 */
export function closeOnSignals(app: Closable, options: CloseOnSignalsOptions): () => void {
  const { logger, signals = ['SIGTERM', 'SIGINT'], source = process } = options;
  const onSignal = () => {
    // A second signal while closing must not start a second close.
    unregister();
    logger.info('shutdown signal received; closing');
    app.close().then(
      () => source.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        source.exit(1);
      },
    );
  };
  const unregister = () => signals.forEach((s) => source.removeListener(s, onSignal));
  signals.forEach((s) => source.once(s, onSignal));
  return unregister;
}
