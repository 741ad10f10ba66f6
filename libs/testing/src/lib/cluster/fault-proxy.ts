import { EventEmitter } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import {
  FrameSplitter,
  readRequestHeader,
  readResponseCorrelationId,
  type RequestHeader,
} from './kafka-wire';

/** A connection the proxy cut, and the request whose answer it withheld. */
export interface CutEvent {
  /** The proxy's listening port (which broker). */
  port: number;
  request: RequestHeader;
}

/** Events of {@link KafkaFaultProxy}. */
export interface KafkaFaultProxyEvents {
  cut: [CutEvent];
  /**
   * A request is about to be relayed: listeners run before it leaves, so a
   * scenario can freeze its client at that very moment (a SIGSTOP right
   * after the client sent it, before it reads the answer).
   */
  request: [CutEvent & { frame: Buffer }];
}

/**
 * Which responses to withhold: those to `apiKey` whose request passes `when`,
 * `remaining` more times. One rule may be shared by several proxies.
 */
export interface CutRule {
  apiKey: number;
  remaining: number;
  when: CutFilter;
}

/** Picks the requests whose answers a rule withholds, from their header and whole frame. */
export type CutFilter = (request: RequestHeader, frame: Buffer) => boolean;

/** Options of {@link KafkaFaultProxy}. */
export interface KafkaFaultProxyOptions {
  host: string;
  /** Where clients connect: the port the broker advertises on its fault listener. */
  port: number;
  /** The broker's fault listener. */
  targetPort: number;
  /** Largest frame relayed; a larger size means the stream is not Kafka's. */
  maxFrameBytes: number;
}

/**
 * A loopback TCP proxy in front of one broker that reads the Kafka frames it
 * relays. It notes each request's api key by correlation id, and when a
 * response to an armed api key comes back it closes both sides instead of
 * relaying it: the broker has done the work (a transactional offset commit
 * recorded, a transaction ended) and the client never learns it. That is the
 * window in which a client must find out the outcome by itself, hit at will
 * and as often as a scenario wants.
 */
export class KafkaFaultProxy extends EventEmitter<KafkaFaultProxyEvents> {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private rules: CutRule[] = [];
  /** Requests relayed, per api key. */
  readonly requests = new Map<number, number>();
  /** Connections cut. */
  cuts = 0;

  constructor(private readonly o: KafkaFaultProxyOptions) {
    super();
  }

  /** The port clients connect to. */
  get port(): number {
    return this.o.port;
  }

  /** Listens on the proxy port. */
  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.o.host, port: this.o.port, exclusive: true }, () => resolve());
    });
    this.server = server;
  }

  /** Stops listening and closes every relayed connection. */
  async close(): Promise<void> {
    this.disarm();
    this.cutAll();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Arms a cut: the next `times` responses to `apiKey` whose request passes
   * `when` are withheld and their connections closed.
   */
  cutResponses(apiKey: number, times: number, when: CutFilter = () => true): void {
    this.addRule({ apiKey, remaining: times, when });
  }

  /** Arms a rule, possibly shared with other proxies (its count is then shared too). */
  addRule(rule: CutRule): void {
    this.rules.push(rule);
  }

  /** Forgets every armed cut. */
  disarm(): void {
    this.rules = [];
  }

  /** Closes every relayed connection now, whatever is in flight. */
  cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private relay(client: Socket): void {
    const upstream = connect({ host: this.o.host, port: this.o.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    /** Requests awaiting their answer, with the armed rule that picked each (if any). */
    const inFlight = new Map<number, { header: RequestHeader; rule: CutRule | null }>();
    const requests = new FrameSplitter(this.o.maxFrameBytes);
    const responses = new FrameSplitter(this.o.maxFrameBytes);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = requests.push(chunk);
      } catch {
        closeBoth();
        return;
      }
      for (const frame of frames) {
        const header = readRequestHeader(frame);
        // Picked when it goes out (the filter may read the request's body);
        // the rule's count is spent only when the answer is withheld.
        inFlight.set(header.correlationId, { header, rule: this.pick(header, frame) });
        this.requests.set(header.apiKey, (this.requests.get(header.apiKey) ?? 0) + 1);
        this.emit('request', { port: this.o.port, request: header, frame });
        upstream.write(frame);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = responses.push(chunk);
      } catch {
        closeBoth();
        return;
      }
      for (const frame of frames) {
        const id = readResponseCorrelationId(frame);
        const request = inFlight.get(id);
        inFlight.delete(id);
        if (request?.rule && request.rule.remaining > 0) {
          request.rule.remaining -= 1;
          this.cuts += 1;
          closeBoth();
          this.emit('cut', { port: this.o.port, request: request.header });
          return;
        }
        client.write(frame);
      }
    });
  }

  private pick(request: RequestHeader, frame: Buffer): CutRule | null {
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return this.rules.find((r) => r.apiKey === request.apiKey && r.when(request, frame)) ?? null;
  }
}

/**
 * One proxy per broker of a cluster, armed together: a client that bootstraps
 * on {@link addresses} reaches every broker through them, whichever broker a
 * coordinator or a leader moves to.
 */
export class KafkaFaultProxies {
  readonly proxies: KafkaFaultProxy[];

  constructor(
    host: string,
    nodes: readonly { faultProxy: { listenerPort: number; port: number } | null }[],
    maxFrameBytes: number,
  ) {
    this.proxies = nodes.map((n) => {
      if (!n.faultProxy)
        throw new RangeError('a node without a fault listener (stack.kafka.faultProxy)');
      return new KafkaFaultProxy({
        host,
        port: n.faultProxy.port,
        targetPort: n.faultProxy.listenerPort,
        maxFrameBytes,
      });
    });
  }

  /** Bootstrap addresses for clients that go through the proxies. */
  addresses(host: string): string[] {
    return this.proxies.map((p) => `${host}:${p.port}`);
  }

  async start(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.close()));
  }

  /** Arms a cut on every proxy, shared: `times` cuts in all, wherever they happen. */
  cutResponses(apiKey: number, times: number, when: CutFilter = () => true): void {
    const rule: CutRule = { apiKey, remaining: times, when };
    for (const p of this.proxies) p.addRule(rule);
  }

  disarm(): void {
    for (const p of this.proxies) p.disarm();
  }

  /** Connections cut so far, on every proxy. */
  get cuts(): number {
    return this.proxies.reduce((n, p) => n + p.cuts, 0);
  }

  /** Requests of `apiKey` relayed so far, on every proxy. */
  requestCount(apiKey: number): number {
    return this.proxies.reduce((n, p) => n + (p.requests.get(apiKey) ?? 0), 0);
  }

  onCut(listener: (e: CutEvent) => void): void {
    for (const p of this.proxies) p.on('cut', listener);
  }

  /** Calls `listener` with every request before it is relayed, on every proxy. */
  onRequest(listener: (e: CutEvent & { frame: Buffer }) => void): void {
    for (const p of this.proxies) p.on('request', listener);
  }
}
