import { describe, expect, it } from 'vitest';
import { TOPICS } from '../generated';
import { SUBMISSION_RETRY_TIER_TOPICS } from './retry-tiers';
import {
  PIPELINE_STAGES,
  declaredInputTopicsOf,
  inputTopicsOf,
  isServiceName,
  serviceDeclaration,
  settingEnvName,
} from './pipeline';

describe('the pipeline manifest (schemas/pipeline.yaml)', () => {
  it('lists the stages in flow order and leaves other services out of them', () => {
    expect(PIPELINE_STAGES.slice(0, 4)).toEqual([
      'ingest',
      'normalization',
      'routing',
      'submission',
    ]);
    expect(PIPELINE_STAGES).not.toContain('funder-simulator');
    expect(isServiceName('funder-simulator')).toBe(true);
    expect(isServiceName('nope')).toBe(false);
  });

  it("gives submission's inputs as the routed topic and every retry tier", () => {
    expect(declaredInputTopicsOf(serviceDeclaration('submission')).sort()).toEqual(
      [TOPICS.ROUTED, ...SUBMISSION_RETRY_TIER_TOPICS].sort(),
    );
  });

  it('adds the existing topics a pattern matches, and only those', () => {
    const ingest = serviceDeclaration('ingest');
    expect(
      inputTopicsOf(ingest, [
        'grants.ingest.v1',
        'grants.ingest.partner-x.v1',
        'grants.validated.v1',
      ]),
    ).toEqual(['grants.ingest.v1', 'grants.ingest.partner-x.v1']);
  });

  it('never lists a topic twice', () => {
    const submission = serviceDeclaration('submission');
    const inputs = inputTopicsOf(submission, [...SUBMISSION_RETRY_TIER_TOPICS, TOPICS.ROUTED]);
    expect(new Set(inputs).size).toBe(inputs.length);
  });

  it('names a setting as its environment override', () => {
    expect(settingEnvName('statusPolling.metrics.port')).toBe(
      'GRANTSTREAM__STATUS_POLLING__METRICS__PORT',
    );
    expect(settingEnvName(serviceDeclaration('funder-simulator').portSetting)).toBe(
      'GRANTSTREAM__SIMULATOR__PORT',
    );
  });
});
