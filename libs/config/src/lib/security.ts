import { z } from 'zod';
import { expandHome, secretRefSchema } from './secrets';

/** A file path; `~/` is the home directory. */
const path = z.string().min(1).transform(expandHome);

/**
 * TLS to the brokers. The server's certificate is always verified, name
 * included: there is no switch to turn either off. `caFile` null trusts the
 * system's CAs (managed clusters with public certificates); `certFile` and
 * `keyFile` together present a client certificate (mTLS).
 */
export const tlsSchema = z
  .strictObject({
    /** PEM file of the CA(s) that sign the brokers' (or the registry's) certificates. */
    caFile: path.nullable().default(null),
    /** PEM client certificate (mTLS); with keyFile. */
    certFile: path.nullable().default(null),
    /** PEM private key of certFile. */
    keyFile: path.nullable().default(null),
    /** Passphrase of an encrypted keyFile. */
    keyPassphrase: secretRefSchema.nullable().default(null),
    /** The name the certificate must carry when it differs from the host dialled (SNI too). */
    serverName: z.string().min(1).nullable().default(null),
  })
  .refine((t) => (t.certFile === null) === (t.keyFile === null), {
    message: 'certFile and keyFile go together (a client certificate needs its key)',
  });

/** Parsed {@link tlsSchema}. */
export type TlsConfig = z.infer<typeof tlsSchema>;

/** SASL mechanisms a username and password authenticate with. */
export const PASSWORD_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;

/**
 * SASL authentication to the brokers. SCRAM (256 or 512) and PLAIN take a
 * username and a password secret; OAUTHBEARER takes a token secret (a file a
 * token refresher keeps current), re-read at every authentication.
 */
export const saslSchema = z.discriminatedUnion('mechanism', [
  z.strictObject({
    mechanism: z.enum(PASSWORD_MECHANISMS),
    /** The principal's name (User:<username> in ACLs). Not a secret. */
    username: z.string().min(1),
    password: secretRefSchema,
  }),
  z.strictObject({
    mechanism: z.literal('oauthbearer'),
    token: secretRefSchema,
  }),
]);

/** Parsed {@link saslSchema}. */
export type SaslConfig = z.infer<typeof saslSchema>;

/** How the registry client authenticates: HTTP basic (a key and secret) or a bearer token. */
export const registryAuthSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('basic'),
    username: z.string().min(1),
    password: secretRefSchema,
  }),
  z.strictObject({
    kind: z.literal('bearer'),
    token: secretRefSchema,
  }),
]);

/** Parsed {@link registryAuthSchema}. */
export type RegistryAuthConfig = z.infer<typeof registryAuthSchema>;

/** The security protocol a Kafka connection uses, in Kafka's own words. */
export type KafkaSecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

/** The protocol `tls` and `sasl` together amount to. */
export function kafkaSecurityProtocol(c: {
  tls: TlsConfig | null;
  sasl: SaslConfig | null;
}): KafkaSecurityProtocol {
  if (c.sasl) return c.tls ? 'SASL_SSL' : 'SASL_PLAINTEXT';
  return c.tls ? 'SSL' : 'PLAINTEXT';
}

/**
 * One line saying how a connection is secured, for `grantctl config check`
 * and startup logs: the protocol, mechanism, principal and where each secret
 * comes from, never a secret's value.
 */
export function describeKafkaSecurity(c: {
  tls: TlsConfig | null;
  sasl: SaslConfig | null;
}): string {
  const parts: string[] = [kafkaSecurityProtocol(c)];
  if (c.sasl) {
    parts.push(c.sasl.mechanism.toUpperCase());
    if (c.sasl.mechanism === 'oauthbearer') parts.push(`token from ${c.sasl.token.describe()}`);
    else parts.push(`user ${c.sasl.username}`, `password from ${c.sasl.password.describe()}`);
  }
  if (c.tls) {
    parts.push(`CA ${c.tls.caFile ?? 'system'}`);
    if (c.tls.certFile) parts.push(`client certificate ${c.tls.certFile}`);
  }
  return parts.join(', ');
}

/** The registry's counterpart of {@link describeKafkaSecurity}. */
export function describeRegistrySecurity(c: {
  url: string;
  auth: RegistryAuthConfig | null;
  tls: TlsConfig | null;
}): string {
  const parts: string[] = [c.url.startsWith('https:') ? 'HTTPS' : 'HTTP'];
  if (!c.auth) parts.push('no authentication');
  else if (c.auth.kind === 'basic')
    parts.push(`basic auth, user ${c.auth.username}, password from ${c.auth.password.describe()}`);
  else parts.push(`bearer token from ${c.auth.token.describe()}`);
  if (c.tls) parts.push(`CA ${c.tls.caFile ?? 'system'}`);
  return parts.join(', ');
}
