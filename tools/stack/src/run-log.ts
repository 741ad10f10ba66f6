import { mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A log file a job and the scripts it runs append to: a pino destination,
 * and a file descriptor to hand a child process as its stdout and stderr.
 */
export interface RunLog {
  path: string;
  fd: number;
  write(chunk: string): void;
}

/**
 * Opens `path` for appending, creating its directory. Writes are synchronous
 * so that every line is on disk when the job calls process.exit, including
 * the error that ended it; O_APPEND keeps the job's lines and its children's
 * output whole when both write to the file. The descriptor stays open until
 * the process exits: a Kafka client may still log while it disconnects.
 */
export function openRunLog(path: string): RunLog {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a');
  return {
    path,
    fd,
    write: (chunk) => {
      writeSync(fd, chunk);
    },
  };
}
