import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  Type as AvroType,
  type ForSchemaOptions,
  type Resolver,
  type Schema,
  type Type,
} from 'avsc';
import type { RegistryConnectionConfig } from '@grantstream/config';
import {
  AvroBodyError,
  IncompatibleSchemaError,
  InfrastructureError,
  SchemaMismatchError,
  SchemaViolationError,
  UnknownSchemaIdError,
} from '@grantstream/errors';
import { WIRE_HEADER_BYTES, parseWire, writeWireHeader } from './wire-format';

/** Subject compatibility levels the serde can set when registering. */
export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

/** Options of {@link AvroSerde}. */
export interface AvroSerdeOptions {
  /** avsc logical types used to build every writer type (e.g. the metadata map). */
  logicalTypes?: ForSchemaOptions['logicalTypes'];
  /** Clock, for tests of the negative cache. */
  now?: () => number;
}

/** A decoded message: the writer's schema id and the plain JS value. */
export interface Decoded<T = unknown> {
  schemaId: number;
  value: T;
}

/** The value subject of a topic (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;

type RegistryMiddleware = NonNullable<
  ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']
>[number];

/** Bounds every registry call: the client has no timeout of its own. */
function requestTimeout(timeoutMs: number): RegistryMiddleware {
  return () => ({
    prepareRequest: (next) => next().then((request) => request.enhance({ timeout: timeoutMs })),
  });
}

/** Subjects an id is registered under: the pending lookup, and its result once known. */
interface SubjectsEntry {
  subjects: Promise<Set<string>>;
  known?: Set<string>;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const status = err.status;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}

/**
 * Avro serialisation through a Confluent-API schema registry. Writer types are
 * cached by id forever (ids are immutable); ids the registry does not know are
 * cached as unknown for `negativeCacheTtlMs`, so a stream of poison messages
 * costs one registry call per id per TTL instead of one per message.
 */
export class AvroSerde {
  private readonly client: SchemaRegistry;
  private readonly types = new Map<number, Promise<Type>>();
  private readonly unknownUntil = new Map<number, number>();
  private readonly latestId = new Map<string, number>();
  /** Latest-id lookups under way: concurrent encodes on a cold cache share one registry call. */
  private readonly latestIdPending = new Map<string, Promise<number>>();
  private latestIdCalls = 0;
  private readonly now: () => number;
  private readonly forSchemaOptions: Partial<ForSchemaOptions>;
  private readonly readers = new Map<Schema, Type>();
  /** Per reader type, per writer schema id: its resolver, or null when the schemas are equal. */
  private readonly resolvers = new Map<Type, Map<number, Resolver | null>>();
  private readonly subjectsOfId = new Map<number, SubjectsEntry>();
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly mismatchCheckedAt = new Map<string, number>();
  /** Writer types already fetched, for synchronous reads on the hot path. */
  private readonly knownTypes = new Map<number, Type>();
  private lookups = 0;

  constructor(
    private readonly config: RegistryConnectionConfig,
    options: AvroSerdeOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    // Decoded records are plain objects: avsc's record classes put methods on
    // the prototype, which zod's strict objects would see as unknown keys.
    this.forSchemaOptions = {
      omitRecordMethods: true,
      ...(options.logicalTypes ? { logicalTypes: options.logicalTypes } : {}),
    };
    this.client = new SchemaRegistry(
      { host: config.url, middlewares: [requestTimeout(config.requestTimeoutMs)] },
      { forSchemaOptions: this.forSchemaOptions },
    );
  }

  /** Registry calls made to resolve schema ids (for tests and metrics). */
  get registryLookups(): number {
    return this.lookups;
  }

  /**
   * Registers `schema` under the topic's value subject with the given
   * compatibility and returns its id; registering an identical schema again
   * returns the existing id.
   * @throws IncompatibleSchemaError when the registry refuses it under the subject's compatibility.
   */
  async register(topic: string, schema: object, compatibility: Compatibility): Promise<number> {
    const subject = valueSubject(topic);
    // The level is set before registering: the client refuses to register when
    // an existing subject's level differs from the requested one, and the
    // declared level (not whatever the subject had) must judge the new schema.
    await this.setCompatibility(subject, compatibility);
    try {
      const { id } = await this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY[compatibility] },
      );
      this.latestId.set(subject, id);
      return id;
    } catch (err) {
      const status = httpStatus(err);
      if (status === 409 || status === 422) {
        throw new IncompatibleSchemaError(
          `registry refused the schema for ${subject} under ${compatibility}: ${(err as Error).message}`,
          { cause: err, metadata: { subject, status, compatibility } },
        );
      }
      throw this.unavailable(`register ${subject}`, err);
    }
  }

  /** Sets a subject's compatibility level (the registry keeps it per subject). */
  async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.config.url}/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ compatibility }),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (err) {
      throw this.unavailable(`set compatibility of ${subject}`, err);
    }
    if (!res.ok) {
      throw this.unavailable(
        `set compatibility of ${subject}`,
        new Error(`HTTP ${res.status}: ${await res.text()}`),
      );
    }
  }

  /** Registry calls made for a subject's latest schema id (for tests and metrics). */
  get latestIdLookups(): number {
    return this.latestIdCalls;
  }

  /**
   * Latest schema id registered under the topic's value subject, cached after
   * the first call. Callers asking while a lookup is under way share it, so a
   * burst of encodes on a cold cache makes one registry call, not one each.
   */
  async latestSchemaId(topic: string): Promise<number> {
    const subject = valueSubject(topic);
    const cached = this.latestId.get(subject);
    if (cached !== undefined) return cached;
    let pending = this.latestIdPending.get(subject);
    if (!pending) {
      pending = this.fetchLatestId(subject).finally(() => this.latestIdPending.delete(subject));
      this.latestIdPending.set(subject, pending);
    }
    return pending;
  }

  private async fetchLatestId(subject: string): Promise<number> {
    this.latestIdCalls += 1;
    try {
      const id = await this.client.getLatestSchemaId(subject);
      this.latestId.set(subject, id);
      return id;
    } catch (err) {
      if (httpStatus(err) === 404) {
        throw new SchemaViolationError(`no schema registered under ${subject}`, {
          cause: err,
          metadata: { subject },
        });
      }
      throw this.unavailable(`latest id of ${subject}`, err);
    }
  }

  /**
   * Encodes `value` with the topic's latest value schema in Confluent wire format.
   * @throws SchemaViolationError naming every invalid field path.
   */
  async encode(topic: string, value: unknown): Promise<Buffer> {
    // Cached lookups are read synchronously: each await costs a turn of the
    // microtask queue per message on the hot path.
    const schemaId = this.latestId.get(valueSubject(topic)) ?? (await this.latestSchemaId(topic));
    const type = this.knownTypes.get(schemaId) ?? (await this.typeFor(schemaId));
    try {
      return this.frame(schemaId, type, value);
    } catch (err) {
      // Validation runs only for a value that failed: on the hot path toBuffer
      // already checks every field while it writes.
      const invalid: string[] = [];
      type.isValid(value, { errorHook: (path) => invalid.push(path.join('.') || '(root)') });
      throw new SchemaViolationError(
        `value does not match ${valueSubject(topic)} (id ${schemaId}) at: ${invalid.join(', ') || (err as Error).message}`,
        { cause: err, metadata: { topic, schemaId, paths: invalid } },
      );
    }
  }

  /**
   * Decodes a Confluent wire-format message with its writer schema.
   * @throws WireFormatError, UnknownSchemaIdError or AvroBodyError (all permanent), or
   *   InfrastructureError when the registry cannot be reached (transient).
   */
  async decode<T = unknown>(value: Buffer | null): Promise<Decoded<T>> {
    const { schemaId, body } = parseWire(value);
    const type = await this.typeFor(schemaId);
    try {
      return { schemaId, value: type.fromBuffer(body) as T };
    } catch (err) {
      throw new AvroBodyError(
        `Avro body does not decode with schema id ${schemaId}: ${(err as Error).message}`,
        {
          cause: err,
          metadata: { schemaId, bodyBytes: body.length },
        },
      );
    }
  }

  /**
   * Decodes with the writer's schema into the given reader schema (Avro schema
   * resolution): a stage built against v1 reads v2 data as v1, new fields dropped
   * and missing ones defaulted, instead of failing on fields it does not know.
   */
  async decodeAs<T = unknown>(value: Buffer | null, reader: Schema): Promise<Decoded<T>> {
    const { schemaId, body } = parseWire(value);
    const writer = this.knownTypes.get(schemaId) ?? (await this.typeFor(schemaId));
    const readerType = this.readerType(reader);
    let byWriter = this.resolvers.get(readerType);
    if (!byWriter) {
      byWriter = new Map();
      this.resolvers.set(readerType, byWriter);
    }
    let resolver = byWriter.get(schemaId);
    if (resolver === undefined) {
      try {
        // Same schema on both sides (the common case): decode directly, no resolver.
        resolver = writer.equals(readerType) ? null : readerType.createResolver(writer);
      } catch (err) {
        throw new SchemaMismatchError(
          `writer schema id ${schemaId} (${writer.name ?? 'anonymous'}) cannot be read as ${readerType.name ?? 'anonymous'}: ${(err as Error).message}`,
          { cause: err, metadata: { schemaId } },
        );
      }
      byWriter.set(schemaId, resolver);
    }
    try {
      const value: unknown = resolver
        ? readerType.fromBuffer(body, resolver)
        : readerType.fromBuffer(body);
      return { schemaId, value: value as T };
    } catch (err) {
      throw new AvroBodyError(
        `Avro body does not decode with schema id ${schemaId}: ${(err as Error).message}`,
        { cause: err, metadata: { schemaId, bodyBytes: body.length } },
      );
    }
  }

  /**
   * Proves the message's schema is registered under the topic's value subject:
   * bytes encoded for another topic must not pass because they happen to parse.
   * @throws SchemaMismatchError otherwise.
   */
  async assertSubject(schemaId: number, topic: string): Promise<void> {
    const subject = valueSubject(topic);
    const entry = this.subjectsOfId.get(schemaId) ?? this.lookUpSubjects(schemaId);
    let subjects = entry.known ?? (await entry.subjects);
    if (!subjects.has(subject)) {
      // The same schema may have been registered under this subject since the
      // id was looked up (a new topic with an existing schema gets the same id):
      // look again, but at most once per id and subject per TTL, so a stream of
      // mismatched messages cannot hammer the registry.
      const pair = `${schemaId}|${subject}`;
      const checked = this.mismatchCheckedAt.get(pair);
      if (checked === undefined || this.now() - checked >= this.config.negativeCacheTtlMs) {
        this.mismatchCheckedAt.set(pair, this.now());
        subjects = await this.lookUpSubjects(schemaId).subjects;
      }
    }
    if (!subjects.has(subject)) {
      throw new SchemaMismatchError(
        `schema id ${schemaId} is registered under ${[...subjects].join(', ') || 'no subject'}, not ${subject}`,
        { metadata: { schemaId, subject } },
      );
    }
  }

  /** Starts a lookup of the subjects of an id and caches it; a failed lookup is not cached. */
  private lookUpSubjects(schemaId: number): SubjectsEntry {
    const entry: SubjectsEntry = { subjects: this.fetchSubjects(schemaId) };
    this.subjectsOfId.set(schemaId, entry);
    entry.subjects.then(
      (known) => (entry.known = known),
      () => this.subjectsOfId.delete(schemaId),
    );
    return entry;
  }

  private async fetchSubjects(schemaId: number): Promise<Set<string>> {
    this.lookups += 1;
    let res: Response;
    try {
      res = await fetch(`${this.config.url}/schemas/ids/${schemaId}/versions`, {
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (err) {
      throw this.unavailable(`subjects of schema id ${schemaId}`, err);
    }
    if (res.status === 404) throw this.unknownId(schemaId);
    if (!res.ok)
      throw this.unavailable(`subjects of schema id ${schemaId}`, new Error(`HTTP ${res.status}`));
    const list = (await res.json()) as { subject: string }[];
    return new Set(list.map((v) => v.subject));
  }

  /**
   * Writes header and body into a reused scratch buffer and copies the result
   * out once: toBuffer plus a framing concat would allocate and copy twice.
   */
  private frame(schemaId: number, type: Type, value: unknown): Buffer {
    for (;;) {
      const end = type.encode(value, this.scratch, WIRE_HEADER_BYTES);
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end);
        this.scratch.copy(out, 0, 0, end);
        writeWireHeader(out, schemaId);
        return out;
      }
      // A negative end is minus the bytes that did not fit: grow and write again.
      this.scratch = Buffer.allocUnsafe(
        Math.max(this.scratch.length * 2, this.scratch.length - end),
      );
    }
  }

  private readerType(schema: Schema): Type {
    let type = this.readers.get(schema);
    if (!type) {
      // A fresh options object: avsc records every named type in `opts.registry`,
      // and a shared one would make the next schema with the same name a duplicate.
      type = AvroType.forSchema(schema, { ...this.forSchemaOptions, registry: {} });
      this.readers.set(schema, type);
    }
    return type;
  }

  /** The writer type of a schema id; unknown ids are remembered as unknown for the TTL. */
  async typeFor(schemaId: number): Promise<Type> {
    const until = this.unknownUntil.get(schemaId);
    if (until !== undefined) {
      if (until > this.now()) throw this.unknownId(schemaId);
      this.unknownUntil.delete(schemaId);
    }
    let pending = this.types.get(schemaId);
    if (!pending) {
      pending = this.fetchType(schemaId);
      this.types.set(schemaId, pending);
      // A failed lookup must not stay cached as a rejected promise.
      pending.catch(() => this.types.delete(schemaId));
    }
    return pending;
  }

  private async fetchType(schemaId: number): Promise<Type> {
    this.lookups += 1;
    try {
      const type = (await this.client.getSchema(schemaId)) as unknown as Type;
      this.knownTypes.set(schemaId, type);
      return type;
    } catch (err) {
      if (httpStatus(err) === 404) {
        this.unknownUntil.set(schemaId, this.now() + this.config.negativeCacheTtlMs);
        throw this.unknownId(schemaId, err);
      }
      throw this.unavailable(`schema id ${schemaId}`, err);
    }
  }

  private unknownId(schemaId: number, cause?: unknown): UnknownSchemaIdError {
    return new UnknownSchemaIdError(`schema id ${schemaId} is not known to the registry`, {
      cause,
      metadata: { schemaId },
    });
  }

  private unavailable(what: string, err: unknown): InfrastructureError {
    return new InfrastructureError(`schema registry failed on ${what}: ${(err as Error).message}`, {
      cause: err,
      metadata: { url: this.config.url },
    });
  }
}
