import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenersInUse } from './ports';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listening(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  return (server.address() as AddressInfo).port;
}

describe('listenersInUse', () => {
  it('names the listeners whose port another process holds, and only those', async () => {
    const held = await listening();
    const free = await listening();
    await new Promise((r) => servers.pop()?.close(r));
    const busy = await listenersInUse([
      { name: 'funder-simulator', host: '127.0.0.1', port: held },
      { name: 'ingest metrics', host: '127.0.0.1', port: free },
    ]);
    expect(busy).toEqual([{ name: 'funder-simulator', host: '127.0.0.1', port: held }]);
  });

  it('leaves a free port free after checking it', async () => {
    const port = await listening();
    await new Promise((r) => servers.pop()?.close(r));
    expect(await listenersInUse([{ name: 'x', host: '127.0.0.1', port }])).toEqual([]);
    expect(await listenersInUse([{ name: 'x', host: '127.0.0.1', port }])).toEqual([]);
  });
});
