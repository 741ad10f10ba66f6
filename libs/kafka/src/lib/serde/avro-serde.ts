import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  Type as AvroType,
  type ForSchemaOptions,
  type Resolver,
  type Schema,
  type Type,
} from 'avsc';
import type { RegistryConnectionConfig } from '@grantstream/config';
import { AVRO_LOGICAL_TYPES } from '@grantstream/contracts';
import {
  AvroBodyError,
  IncompatibleSchemaError,
  InfrastructureError,
  SchemaMismatchError,
  SchemaViolationError,
  UnknownSchemaIdError,
} from '@grantstream/errors';
import type { Agent as HttpsAgent } from 'node:https';
import { assertBoundedBody } from './bounded-body';
import {
  registryAgent,
  registryAuthHeaders,
  registryFetch,
  type RegistryResponse,
} from './registry-http';
import { WIRE_HEADER_BYTES, parseWire, writeWireHeader } from './wire-format';
import {
  CUSTOM_LOGICAL_TYPES,
  DECLARED_WRITER_SCHEMAS,
  wireSchemaOf,
  type WriterSchemas,
} from './writer-schemas';

/** Subject compatibility levels the serde can set when registering. */
export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

/** Options of {@link AvroSerde}. */
export interface AvroSerdeOptions {
  /**
   * avsc logical types our code applies on its side (e.g. the metadata map);
   * they are stripped from every schema registered. Default: our contracts'.
   */
  logicalTypes?: ForSchemaOptions['logicalTypes'];
  /** The schemas writers encode with. Default: the ones generated from schemas/. */
  writerSchemas?: WriterSchemas;
  /** Clock, for tests of the negative cache. */
  now?: () => number;
}

/** What a writer encodes one topic's values with: our schema's type and the id registered for it. */
export interface TopicWriter {
  /** The id the registry holds for the writer's schema under the topic's subject. */
  schemaId: number;
  /** The writer's type, with our logical types. */
  type: Type;
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

/** Adds the configured credentials to every call of the registry client. */
function authorization(config: RegistryConnectionConfig): RegistryMiddleware {
  return () => ({
    prepareRequest: (next) =>
      next().then((request) => request.enhance({ headers: registryAuthHeaders(config) })),
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
 * Avro serialisation through a Confluent-API schema registry.
 *
 * Writers encode with our own schema for the topic (the version the code was
 * built for), under the id the registry gives that schema's content, looked
 * up (or registered) once per topic and schema; a compatible version someone
 * else registers under the subject changes nothing for them. Readers take the
 * writer's schema from the message's id, whoever registered it. Every body is
 * checked against bounds before it is decoded (see {@link assertBoundedBody}).
 *
 * Writer types are cached by id forever (ids are immutable); ids the registry
 * does not know are cached as unknown for `negativeCacheTtlMs`, so a stream of
 * poison messages costs one registry call per id per TTL, not one per message.
 */
export class AvroSerde {
  private readonly client: SchemaRegistry;
  private readonly types = new Map<number, Promise<Type>>();
  private readonly unknownUntil = new Map<number, number>();
  private readonly latestId = new Map<string, number>();
  /** Latest-id lookups under way: concurrent callers on a cold cache share one registry call. */
  private readonly latestIdPending = new Map<string, Promise<number>>();
  private latestIdCalls = 0;
  private readonly writerSchemas: WriterSchemas;
  /** Per topic: the writer encodes are made with, once known (read synchronously on the hot path). */
  private readonly writers = new Map<string, TopicWriter>();
  /** Writer resolutions under way: concurrent encodes on a cold cache share one. */
  private readonly writersPending = new Map<string, Promise<TopicWriter>>();
  /** Schemas registered through this serde, per topic: they are what it writes there. */
  private readonly registeredWriters = new Map<string, Schema>();
  /** Ids by subject and registered content (lookup-or-register once per schema, not per message). */
  private readonly contentIds = new Map<string, Promise<number>>();
  private contentIdCalls = 0;
  /** Our own types by wire-shape fingerprint: a registered schema of the same shape decodes with them. */
  private ownTypes: Map<string, Type> | undefined;
  private readonly customLogicalTypes: ReadonlySet<string>;
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
  /** Trusts the registry's CA when one is configured (https with a private CA). */
  private readonly agent: HttpsAgent | undefined;

  constructor(
    private readonly config: RegistryConnectionConfig,
    options: AvroSerdeOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.writerSchemas = options.writerSchemas ?? DECLARED_WRITER_SCHEMAS;
    const logicalTypes = options.logicalTypes ?? AVRO_LOGICAL_TYPES;
    this.customLogicalTypes = options.logicalTypes
      ? new Set(Object.keys(options.logicalTypes))
      : CUSTOM_LOGICAL_TYPES;
    // Decoded records are plain objects: avsc's record classes put methods on
    // the prototype, which zod's strict objects would see as unknown keys.
    this.forSchemaOptions = { omitRecordMethods: true, logicalTypes: { ...logicalTypes } };
    this.agent = registryAgent(config);
    this.client = new SchemaRegistry(
      {
        host: config.url,
        middlewares: [requestTimeout(config.requestTimeoutMs), authorization(config)],
        ...(this.agent ? { agent: this.agent } : {}),
      },
      { forSchemaOptions: this.forSchemaOptions },
    );
  }

  /** Whether the registry answers this client (its credentials included): the readiness probe's check. */
  async answers(): Promise<boolean> {
    const res = await registryFetch(this.config, this.agent, `${this.config.url}/subjects`, {
      signal: AbortSignal.timeout(this.config.requestTimeoutMs),
    });
    return res.ok;
  }

  /** Registry calls made to resolve schema ids (for tests and metrics). */
  get registryLookups(): number {
    return this.lookups;
  }

  /**
   * Registers `schema` under the topic's value subject with the given
   * compatibility and returns its id; registering an identical schema again
   * returns the existing id. What is registered is the schema's wire form,
   * without our custom logical types; this serde then writes the topic with
   * `schema` (a process declares the schema of a topic it provisions).
   * @throws IncompatibleSchemaError when the registry refuses it under the subject's compatibility.
   */
  async register(topic: string, schema: object, compatibility: Compatibility): Promise<number> {
    const subject = valueSubject(topic);
    const wire = wireSchemaOf(schema as Schema, this.customLogicalTypes);
    // The level is set before registering: the client refuses to register when
    // an existing subject's level differs from the requested one, and the
    // declared level (not whatever the subject had) must judge the new schema.
    await this.setCompatibility(subject, compatibility);
    try {
      const { id } = await this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(wire) },
        { subject, compatibility: COMPATIBILITY[compatibility] },
      );
      this.contentIds.set(this.contentKey(subject, wire), Promise.resolve(id));
      this.registeredWriters.set(topic, schema as Schema);
      this.writers.delete(topic);
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
    let res: RegistryResponse;
    try {
      res = await registryFetch(
        this.config,
        this.agent,
        `${this.config.url}/config/${encodeURIComponent(subject)}`,
        {
          method: 'PUT',
          headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ compatibility }),
          signal: AbortSignal.timeout(this.config.requestTimeoutMs),
        },
      );
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
   * the first call; callers asking while a lookup is under way share it.
   * Writers never encode with it (another producer may own the latest
   * version): it only tells which record a topic we declare nothing for carries.
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
   * Encodes `value` in Confluent wire format with our own schema for the topic
   * (see {@link writerOf}), under the id registered for that schema.
   * @throws SchemaViolationError naming every invalid field path, or
   *   IncompatibleSchemaError when the subject refuses our schema.
   */
  async encode(topic: string, value: unknown): Promise<Buffer> {
    // A known writer is read synchronously: each await costs a turn of the
    // microtask queue per message on the hot path.
    const { schemaId, type } = this.writers.get(topic) ?? (await this.writerOf(topic));
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

  /** Registry calls made to find the id of a writer's schema by its content (for tests and metrics). */
  get writerIdLookups(): number {
    return this.contentIdCalls;
  }

  /**
   * The writer of a topic: the schema this serde registered there, else the
   * one our contracts declare for it, else (a topic the code declares nothing
   * for) our schema of the record its subject carries, or, when our code has
   * no such record, the subject's schema itself. Its id is the one the
   * registry holds for our schema's content, registered if it has none yet.
   * Resolved once per topic; concurrent encodes on a cold cache share it.
   */
  async writerOf(topic: string): Promise<TopicWriter> {
    const known = this.writers.get(topic);
    if (known) return known;
    let pending = this.writersPending.get(topic);
    if (!pending) {
      pending = this.resolveWriter(topic).finally(() => this.writersPending.delete(topic));
      this.writersPending.set(topic, pending);
    }
    return pending;
  }

  private async resolveWriter(topic: string): Promise<TopicWriter> {
    const subject = valueSubject(topic);
    let own = this.registeredWriters.get(topic) ?? this.writerSchemas.forTopic(topic);
    if (!own) {
      // The subject's latest version only says which record the topic carries;
      // we write our newest version of that record (versions are listed oldest first).
      const latestId = await this.latestSchemaId(topic);
      const latest = await this.typeFor(latestId);
      own = [...this.writerSchemas.all].reverse().find((s) => this.ownType(s).name === latest.name);
      if (!own) {
        // A record our code has no contract for (a test's own record): the
        // registered schema is the only one there is.
        const writer = { schemaId: latestId, type: latest };
        this.writers.set(topic, writer);
        return writer;
      }
    }
    const schemaId = await this.idOfContent(subject, wireSchemaOf(own, this.customLogicalTypes));
    const writer = { schemaId, type: this.ownType(own) };
    this.writers.set(topic, writer);
    return writer;
  }

  private contentKey(subject: string, wire: Schema): string {
    return `${subject}\u0000${JSON.stringify(wire)}`;
  }

  /** The id of a schema's content under a subject: looked up, else registered; once per schema. */
  private idOfContent(subject: string, wire: Schema): Promise<number> {
    const key = this.contentKey(subject, wire);
    let id = this.contentIds.get(key);
    if (!id) {
      id = this.lookUpOrRegister(subject, wire);
      this.contentIds.set(key, id);
      // A failed lookup must not stay cached as a rejected promise.
      id.catch(() => this.contentIds.delete(key));
    }
    return id;
  }

  private async lookUpOrRegister(subject: string, wire: Schema): Promise<number> {
    const body = JSON.stringify({ schema: JSON.stringify(wire) });
    const path = `${this.config.url}/subjects/${encodeURIComponent(subject)}`;
    this.contentIdCalls += 1;
    const found = await this.registryPost(path, body, `id of our schema under ${subject}`);
    if (found.ok) return found.id;
    if (found.status !== 404) {
      throw this.unavailable(`id of our schema under ${subject}`, new Error(found.message));
    }
    // Not registered yet (a stage writing before provisioning ran, or a
    // subject registered by older code, with our logical types in it): a new
    // version, judged by the subject's compatibility level.
    const made = await this.registryPost(`${path}/versions`, body, `register under ${subject}`);
    if (made.ok) return made.id;
    if (made.status === 409 || made.status === 422) {
      throw new IncompatibleSchemaError(
        `registry refused our schema for ${subject}: ${made.message}`,
        { metadata: { subject, status: made.status } },
      );
    }
    throw this.unavailable(`register under ${subject}`, new Error(made.message));
  }

  private async registryPost(
    url: string,
    body: string,
    what: string,
  ): Promise<{ ok: true; id: number } | { ok: false; status: number; message: string }> {
    let res: RegistryResponse;
    try {
      res = await registryFetch(this.config, this.agent, url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        body,
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (err) {
      throw this.unavailable(what, err);
    }
    const text = await res.text();
    if (res.ok) {
      const id = (JSON.parse(text) as { id?: unknown }).id;
      if (typeof id === 'number') return { ok: true, id };
      throw this.unavailable(what, new Error(`answer without an id: ${text.slice(0, 200)}`));
    }
    return { ok: false, status: res.status, message: `HTTP ${res.status}: ${text.slice(0, 500)}` };
  }

  /** Our type for one of our schemas, with our logical types; built once per schema. */
  private ownType(schema: Schema): Type {
    return this.readerType(schema);
  }

  /**
   * The type a registered schema decodes with: ours when the registry's
   * schema has the wire shape of one of our schemas (ours registered without
   * its custom logical types, or another producer's copy of it), so values
   * come out as our code sees them; the registry's otherwise.
   */
  private decodingType(registered: Type): Type {
    if (!this.ownTypes) {
      this.ownTypes = new Map();
      for (const schema of this.writerSchemas.all) {
        const type = this.ownType(schema);
        this.ownTypes.set(type.fingerprint().toString('hex'), type);
      }
    }
    return this.ownTypes.get(registered.fingerprint().toString('hex')) ?? registered;
  }

  /**
   * Decodes a Confluent wire-format message with its writer schema, after
   * checking its body against the decode limits.
   * @throws WireFormatError, UnknownSchemaIdError or AvroBodyError (all permanent), or
   *   InfrastructureError when the registry cannot be reached (transient).
   */
  async decode<T = unknown>(value: Buffer | null): Promise<Decoded<T>> {
    const { schemaId, body } = parseWire(value);
    const type = await this.typeFor(schemaId);
    assertBoundedBody(type, body, this.config.decodeLimits);
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
   * The body is checked against the decode limits before it is decoded, on the writer's shape.
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
    // After the resolver: a writer the reader cannot read at all (another
    // topic's record) is a schema mismatch, whatever its bytes say.
    assertBoundedBody(writer, body, this.config.decodeLimits);
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
    let res: RegistryResponse;
    try {
      res = await registryFetch(
        this.config,
        this.agent,
        `${this.config.url}/schemas/ids/${schemaId}/versions`,
        {
          signal: AbortSignal.timeout(this.config.requestTimeoutMs),
        },
      );
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
      const registered = (await this.client.getSchema(schemaId)) as unknown as Type;
      const type = this.decodingType(registered);
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
