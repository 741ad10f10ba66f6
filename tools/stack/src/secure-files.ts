import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CONFIG_FILE,
  kafkaNodes,
  loadConfig,
  isSecured,
  passwordFile,
  secureClientSecurity,
  secureClientEnv,
  secureLayout,
  type GrantstreamConfig as StackConfig,
  type KafkaNodeSpec,
  type SecureLayout,
} from '@grantstream/config';
import {
  EVERY_STAGE_OUTPUTS,
  SERVICE_DECLARATIONS,
  TOPICS,
  TOPIC_DECLARATIONS,
} from '@grantstream/contracts';
import { StackStartError } from '@grantstream/errors';
import type { GrantLogger } from '@grantstream/logging';
import {
  applyAclRules,
  CONSOLE_PRINCIPAL,
  createKafka,
  deriveAcls,
  pipelinePrincipals,
  type AclRule,
  type PrincipalAccess,
} from '@grantstream/kafka';

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new StackStartError(`openssl ${args[0] ?? ''} failed: ${stderr.trim()}`, { cause: err });
  }
}

/**
 * Generates a self-signed CA into `dir` (`<name>.crt`, `<name>.key`) with
 * openssl. The secured stack makes one; tests make another to prove a
 * client trusting the wrong CA is refused.
 */
export function generateCa(
  dir: string,
  name: string,
  options: { days: number; keyBits: number },
): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    `rsa:${options.keyBits}`,
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    String(options.days),
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  chmodSync(key, 0o600);
  return { cert, key };
}

/**
 * Creates what the secured mode needs and is missing: the CA, the broker's
 * certificate (signed by the CA, naming the stack's host as an IP and
 * localhost, so clients check the name they dial) and a random password per
 * user, each file readable by its owner only. Existing files are kept: a
 * restart keeps the users the storage was formatted with.
 */
export function ensureSecureFiles(config: StackConfig, users: readonly string[]): SecureLayout {
  const layout = secureLayout(config);
  const s = config.stack.kafka.security;
  mkdirSync(layout.usersDir, { recursive: true });
  chmodSync(layout.dir, 0o700);
  if (!existsSync(layout.caCert))
    generateCa(layout.dir, 'ca', { days: s.certValidityDays, keyBits: s.keyBits });
  if (!existsSync(layout.brokerPem)) {
    const key = join(layout.dir, 'broker.key');
    const csr = join(layout.dir, 'broker.csr');
    const crt = join(layout.dir, 'broker.crt');
    const ext = join(layout.dir, 'broker.ext');
    writeFileSync(
      ext,
      `subjectAltName=IP:${config.stack.host},DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n`,
    );
    openssl([
      'req',
      '-newkey',
      `rsa:${s.keyBits}`,
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      '/CN=localhost',
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      layout.caCert,
      '-CAkey',
      layout.caKey,
      '-CAcreateserial',
      '-out',
      crt,
      '-days',
      String(s.certValidityDays),
      '-extfile',
      ext,
    ]);
    writeFileSync(
      layout.brokerPem,
      readFileSync(key, 'utf8') + readFileSync(crt, 'utf8') + readFileSync(layout.caCert, 'utf8'),
      { mode: 0o600 },
    );
  }
  for (const user of users) {
    const file = passwordFile(config, user);
    if (!existsSync(file))
      writeFileSync(file, randomBytes(s.passwordBytes).toString('base64url'), { mode: 0o600 });
  }
  return layout;
}

/** Re-exported for the stack's modules: the client side lives in @grantstream/config. */
export { isSecured, passwordFile, secureClientEnv, secureClientSecurity, secureLayout };

const readPassword = (config: StackConfig, user: string) =>
  readFileSync(passwordFile(config, user), 'utf8').trim();

const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * `kafka-storage format` arguments that create every user's SCRAM
 * credentials (both mechanisms) in the new cluster's metadata, so the
 * broker's own inter-broker login and every client can authenticate from
 * the first start (KRaft has no ZooKeeper to add them to beforehand).
 */
export function scramFormatArgs(config: StackConfig, users: readonly string[]): string[] {
  return users.flatMap((user) =>
    SCRAM_MECHANISMS.flatMap((m) => [
      '--add-scram',
      `${m}=[name=${user},password=${readPassword(config, user)}]`,
    ]),
  );
}

/**
 * Lines appended to a node's server.properties in the secured mode (a later
 * key wins in a properties file): the client listener becomes SASL_SSL on
 * the same port, the broker logs in to itself as the admin user, and the
 * StandardAuthorizer denies whatever no ACL allows. The controller listener
 * stays PLAINTEXT on loopback: KRaft controllers cannot use SCRAM (its
 * credentials live in the metadata they serve), so its anonymous principal
 * is a super user, which is why this mode is for a loopback stack only.
 */
export function secureServerProperties(
  config: StackConfig,
  node: KafkaNodeSpec,
  layout: SecureLayout,
): string {
  if (node.faultProxy)
    throw new StackStartError(
      'stack.kafka.security.mode sasl_ssl does not combine with faultProxy',
    );
  const { host } = config.stack;
  const s = config.stack.kafka.security;
  const mechanism = s.mechanism.toUpperCase();
  const admin = s.adminUser;
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${admin}" password="${readPassword(config, admin)}";`;
  const props: Record<string, string> = {
    listeners: `SASL_SSL://${host}:${node.port},CONTROLLER://${host}:${node.controllerPort}`,
    'advertised.listeners': `SASL_SSL://${host}:${node.port}`,
    'listener.security.protocol.map': 'SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'SASL_SSL',
    'sasl.enabled.mechanisms': SCRAM_MECHANISMS.join(','),
    'sasl.mechanism.inter.broker.protocol': mechanism,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': layout.brokerPem,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': layout.caCert,
    'ssl.endpoint.identification.algorithm': 'https',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${admin};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found': 'false',
  };
  // The server side of every enabled mechanism needs a login module entry.
  for (const m of SCRAM_MECHANISMS)
    props[`listener.name.sasl_ssl.${m.toLowerCase()}.sasl.jaas.config`] = jaas;
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

const stageIdentitySchema = z.object({
  runner: z.object({ groupId: z.string().min(1), transactionalIdPrefix: z.string().min(1) }),
});

/** The keys of the services' sections that name their groups and transactional ids. */
const serviceIdentitySchema = z.object({
  checkpointer: z.object({
    leaseGroupId: z.string().min(1),
    offsetsGroupId: z.string().min(1),
    transactionalId: z.string().min(1),
  }),
  console: z.object({
    redrive: z.object({ transactionalId: z.string().min(1) }),
    readModel: z.object({ topics: z.record(z.string(), z.string().min(1)) }),
  }),
});

/** What the derivation gives for this configuration: principals, ACL rules, and the users to create. */
export interface StackAccess {
  principals: PrincipalAccess[];
  rules: AclRule[];
  /** Every principal plus the admin user. */
  users: string[];
}

/**
 * The principals and ACLs of the configuration `env` selects (the default
 * file, GRANTSTREAM_CONFIG overlays, GRANTSTREAM__ overrides): each stage's
 * configured group and transactional id prefix, everything else from the
 * pipeline manifest.
 */
export function stackAccess(
  config: StackConfig,
  env: Readonly<Record<string, string | undefined>>,
): StackAccess {
  const stages = SERVICE_DECLARATIONS.filter((s) => s.kind === 'stage');
  const sections = loadConfig({
    schema: z.object(Object.fromEntries(stages.map((s) => [s.configSection, stageIdentitySchema]))),
    files: [DEFAULT_CONFIG_FILE],
    env,
  }) as Record<string, z.infer<typeof stageIdentitySchema>>;
  const services = loadConfig({ schema: serviceIdentitySchema, files: [DEFAULT_CONFIG_FILE], env });
  const { principals, policy } = pipelinePrincipals({
    services: SERVICE_DECLARATIONS,
    everyStageOutputs: EVERY_STAGE_OUTPUTS,
    topics: TOPIC_DECLARATIONS,
    stages: Object.fromEntries(
      stages.map((s) => [
        s.name,
        (sections[s.configSection] as z.infer<typeof stageIdentitySchema>).runner,
      ]),
    ),
    auditTopic: TOPICS.AUDIT,
    deadLetterTopic: config.runner.deadLetterTopic,
    redriveTransactionalId: config.dlq.redriveTransactionalId,
    serviceIdentities: {
      checkpointer: {
        groupPrefixes: [services.checkpointer.leaseGroupId, services.checkpointer.offsetsGroupId],
        transactionalIdPrefixes: [services.checkpointer.transactionalId],
      },
    },
    // The console redrives under its own principal and transactional id
    // (docs/operations.md): an operator's console session never holds
    // grantctl's credential, and the two redrive ids never fence each other.
    redriveTools: [
      {
        principal: CONSOLE_PRINCIPAL,
        description:
          "the console: reads the audit, status and dead-letter topics without a group; an operator's redrive sends dead letters back with their audit events",
        transactionalId: services.console.redrive.transactionalId,
        reads: Object.values(services.console.readModel.topics),
      },
    ],
  });
  return {
    principals,
    rules: deriveAcls(principals, policy),
    users: [config.stack.kafka.security.adminUser, ...principals.map((p) => p.principal)],
  };
}

/**
 * Applies the derived ACLs with the admin user (creating an existing ACL
 * changes nothing, so every start applies them all: a stage added to the
 * manifest gets its ACLs on the next start). Returns how many rules.
 */
export async function applyStackAcls(
  config: StackConfig,
  access: StackAccess,
  log: GrantLogger,
): Promise<number> {
  const kafka = createKafka(
    {
      ...config.kafka,
      brokers: brokerList(config),
      ...secureClientSecurity(config, config.stack.kafka.security.adminUser),
    },
    log.child({ component: 'acls' }),
  );
  const n = await applyAclRules(kafka, access.rules);
  log.info({ rules: n, principals: access.principals.length }, 'ACLs applied');
  return n;
}

function brokerList(config: StackConfig): string[] {
  return kafkaNodes(config.stack).map((n) => `${config.stack.host}:${n.port}`);
}
