// Moved to libs/testing (src/lib/scenario); kept so imports of this path keep working.
export {
  scenarioDir,
  createIngestTopic,
  createNamedIngestTopic,
  produceSubmissions,
  writePdf,
  anNsfSubmission,
  awaitValidated,
  waitForLog,
  peakRssBytes,
} from '@grantstream/testing';
