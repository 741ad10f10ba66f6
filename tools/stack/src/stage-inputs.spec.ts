import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_CONFIG_FILE, loadConfig } from '@grantstream/config';
import { TOPICS, TOPIC_DECLARATIONS } from '@grantstream/contracts';
import { STAGE_INPUTS } from '@grantstream/harness';

const submissionSchema = z.object({
  submission: z.object({
    retryTopicPattern: z.string(),
    retryTiers: z.array(z.object({ topic: z.string(), delayMs: z.number() })),
  }),
});

describe('the inputs a run positions its fresh groups on', () => {
  const { submission } = loadConfig({
    schema: submissionSchema,
    files: [DEFAULT_CONFIG_FILE],
    env: {},
  });
  const inputs = STAGE_INPUTS.submission.topics as readonly string[];

  it('are, for submission, the routed topic and every declared topic its retry pattern subscribes to', () => {
    const pattern = new RegExp(submission.retryTopicPattern);
    const subscribed = TOPIC_DECLARATIONS.map((d) => d.name).filter((name) => pattern.test(name));
    expect(subscribed.length).toBeGreaterThan(0);
    expect([...inputs].sort()).toEqual([TOPICS.ROUTED, ...subscribed].sort());
  });

  it('hold every retry tier the default configuration writes to', () => {
    for (const tier of submission.retryTiers) expect(inputs).toContain(tier.topic);
  });
});
