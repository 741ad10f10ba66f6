import { describe, expect, it } from 'vitest';
import { PIPELINE_STAGES, serviceDeclaration } from '@grantstream/contracts';
import { loadLocalServices, metricsUrlOf } from './local-services';

describe('the local services of a main job', () => {
  const local = loadLocalServices();

  it.each(PIPELINE_STAGES)(
    "read %s's metrics endpoint from its declared section and port",
    (stage) => {
      expect(metricsUrlOf(local, stage)).toBe(
        `http://127.0.0.1:${serviceDeclaration(stage).port}/metrics`,
      );
    },
  );

  it('keep the webhook the notification stage posts to beside its metrics endpoint', () => {
    expect(local.notification.webhook.url).toMatch(/^https?:\/\//);
  });
});
