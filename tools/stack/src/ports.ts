import { createServer } from 'node:net';

/** A host and port a process of the main job must listen on. */
export interface Listener {
  /** Who listens there (the simulator, a stage's metrics). */
  name: string;
  host: string;
  port: number;
}

/** Whether `port` on `host` can be listened on now: false when another process holds it. */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(false);
      else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The listeners among `wanted` whose port another process already holds.
 * The main job's simulator and stages listen on fixed ports: when another run
 * (a concurrent main job, a left-over stage) holds one, ours exits at once and
 * the run would silently follow the other run's processes instead, failing
 * after its whole timeout with grants that are not as expected.
 */
export async function listenersInUse(wanted: readonly Listener[]): Promise<Listener[]> {
  const busy: Listener[] = [];
  for (const l of wanted) if (!(await canListen(l.host, l.port))) busy.push(l);
  return busy;
}
