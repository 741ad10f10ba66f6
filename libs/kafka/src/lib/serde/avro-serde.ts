import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { ForSchemaOptions, Type } from 'avsc';
import type { RegistryConnectionConfig } from '@grantstream/config';
import {
  AvroBodyError,
  IncompatibleSchemaError,
  InfrastructureError,
  SchemaViolationError,
  UnknownSchemaIdError,
} from '@grantstream/errors';
import { encodeWire, parseWire } from './wire-format';

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
  private readonly now: () => number;
  private lookups = 0;

  constructor(
    private readonly config: RegistryConnectionConfig,
    options: AvroSerdeOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.client = new SchemaRegistry(
      { host: config.url, middlewares: [requestTimeout(config.requestTimeoutMs)] },
      // Decoded records are plain objects: avsc's record classes put methods on
      // the prototype, which zod's strict objects would see as unknown keys.
      {
        forSchemaOptions: {
          omitRecordMethods: true,
          ...(options.logicalTypes ? { logicalTypes: options.logicalTypes } : {}),
        },
      },
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

  /** Latest schema id registered under the topic's value subject (cached after the first call). */
  async latestSchemaId(topic: string): Promise<number> {
    const subject = valueSubject(topic);
    const cached = this.latestId.get(subject);
    if (cached !== undefined) return cached;
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
    const schemaId = await this.latestSchemaId(topic);
    const type = await this.typeFor(schemaId);
    const invalid: string[] = [];
    if (!type.isValid(value, { errorHook: (path) => invalid.push(path.join('.') || '(root)') })) {
      throw new SchemaViolationError(
        `value does not match ${valueSubject(topic)} (id ${schemaId}) at: ${invalid.join(', ')}`,
        { metadata: { topic, schemaId, paths: invalid } },
      );
    }
    return encodeWire(schemaId, type.toBuffer(value));
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
      return (await this.client.getSchema(schemaId)) as unknown as Type;
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
