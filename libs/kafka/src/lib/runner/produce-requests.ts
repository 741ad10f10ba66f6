import type { OutgoingMessage } from '../topic-io';

/** Approximate bytes a message takes in a record batch: key, value and headers. */
export function messageBytes(m: OutgoingMessage): number {
  let n = (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += k.length + v.length;
  return n;
}

/** The outputs of a chunk as produce requests of at most `maxBytes` each (one message may exceed it alone). */
export function requestsOf(
  outputs: Map<string, OutgoingMessage[]>,
  maxBytes: number,
): { topic: string; messages: OutgoingMessage[] }[][] {
  const requests: { topic: string; messages: OutgoingMessage[] }[][] = [];
  let current = new Map<string, OutgoingMessage[]>();
  let bytes = 0;
  const flush = () => {
    if (current.size > 0)
      requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const [topic, messages] of outputs) {
    for (const m of messages) {
      const size = messageBytes(m);
      if (bytes > 0 && bytes + size > maxBytes) flush();
      const list = current.get(topic);
      if (list) list.push(m);
      else current.set(topic, [m]);
      bytes += size;
    }
  }
  flush();
  return requests;
}
