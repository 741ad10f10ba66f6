import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type AclEntry,
  type Kafka,
} from '@grantstream/kafkajs-extended';
import type { AclOperation, AclPatternType, AclResourceType, AclRule } from './acl-derivation';

const RESOURCE: Record<AclResourceType, AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  transactionalId: AclResourceTypes.TRANSACTIONAL_ID,
};

const PATTERN: Record<AclPatternType, ResourcePatternTypes> = {
  literal: ResourcePatternTypes.LITERAL,
  prefixed: ResourcePatternTypes.PREFIXED,
};

const OPERATION: Record<AclOperation, AclOperationTypes> = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
  describeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
};

/** The client's form of one derived rule: ALLOW from any host. */
export function aclEntryOf(rule: AclRule): AclEntry {
  return {
    principal: `User:${rule.principal}`,
    host: '*',
    resourceType: RESOURCE[rule.resourceType],
    resourceName: rule.resourceName,
    resourcePatternType: PATTERN[rule.patternType],
    operation: OPERATION[rule.operation],
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/**
 * Creates every rule on the cluster (creating an existing ACL is a no-op) with
 * a client whose principal may alter ACLs (a super user). Returns how many.
 */
export async function applyAclRules(kafka: Kafka, rules: readonly AclRule[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: rules.map(aclEntryOf) });
    return rules.length;
  } finally {
    await admin.disconnect();
  }
}
