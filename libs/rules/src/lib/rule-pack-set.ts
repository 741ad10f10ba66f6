import { ConfigError } from '@grantstream/errors';
import type { RulePack } from './rule-pack';

/** The configured rule packs, looked up by funder id; immutable once built. */
export class RulePackSet {
  /** Funder ids of the packs, in the order the packs were given. */
  readonly funderIds: readonly string[];
  private readonly byFunder: ReadonlyMap<string, RulePack>;

  private constructor(packs: readonly RulePack[]) {
    this.byFunder = new Map(packs.map((p) => [p.funder_id, p]));
    this.funderIds = Object.freeze(packs.map((p) => p.funder_id));
  }

  /**
   * Builds the set. Two packs for one funder would make the decision depend on
   * load order, so a duplicate funder id is a {@link ConfigError}.
   */
  static of(packs: readonly RulePack[]): RulePackSet {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const p of packs) {
      if (seen.has(p.funder_id)) problems.push(`funder_id ${p.funder_id}: more than one rule pack`);
      seen.add(p.funder_id);
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return new RulePackSet(packs);
  }

  /** The pack of a funder, or undefined when none is configured (an unknown funder). */
  get(funderId: string): RulePack | undefined {
    return this.byFunder.get(funderId);
  }
}
