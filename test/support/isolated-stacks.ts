/**
 * Every stack a scenario starts beside the shared one, with the first port of
 * the block of ISOLATED_STACK_BLOCK ports it owns: the stack's own five
 * (broker, controller, registry, registry management, Redis) and whatever
 * else the scenario listens on (a simulator, stage metrics). Declared in one
 * place so test/architecture/port-plan.test.ts can prove that no two stacks,
 * and no stack and overlay, meet on a port: a broker started on a port another
 * broker holds exits, and the other one answers in its place.
 */
export const ISOLATED_STACKS = {
  'secure-principals': 24100,
  'secure-refusals': 24200,
  'secure-main-job': 24400,
  outage: 24500,
  lifecycle: 24600,
} as const;

export type IsolatedStack = keyof typeof ISOLATED_STACKS;

/** The ports each isolated stack owns, from its first. */
export const ISOLATED_STACK_BLOCK = 100;

/** The stack's own ports, at the start of its block. */
export function isolatedStackPorts(name: IsolatedStack) {
  const base = ISOLATED_STACKS[name];
  return {
    kafka: base,
    controller: base + 1,
    registry: base + 2,
    registryManagement: base + 3,
    redis: base + 4,
    /** The first port of the block the stack itself does not use. */
    free: base + 5,
  };
}

/**
 * The overrides that run the stack commands and the clients on an isolated
 * stack: its state folder, its ports, and the broker, registry and Redis the
 * clients use.
 */
export function isolatedStackEnv(name: IsolatedStack, stateDir: string): Record<string, string> {
  const p = isolatedStackPorts(name);
  return {
    GRANTSTREAM__STACK__STATE_DIR: stateDir,
    GRANTSTREAM__STACK__KAFKA__PORT: String(p.kafka),
    GRANTSTREAM__STACK__KAFKA__CONTROLLER_PORT: String(p.controller),
    GRANTSTREAM__STACK__REGISTRY__PORT: String(p.registry),
    GRANTSTREAM__STACK__REGISTRY__MANAGEMENT_PORT: String(p.registryManagement),
    GRANTSTREAM__STACK__REDIS__PORT: String(p.redis),
    GRANTSTREAM__KAFKA__BROKERS: JSON.stringify([`127.0.0.1:${p.kafka}`]),
    GRANTSTREAM__REGISTRY__URL: `http://127.0.0.1:${p.registry}/apis/ccompat/v7`,
    GRANTSTREAM__REDIS__PORT: String(p.redis),
  };
}
