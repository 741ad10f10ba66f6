/**
 * Running the pipeline as a whole on a live stack: start and stop the stage
 * services as processes, follow applications to their outcome, verify their
 * audit trails, and the type of the main job's report. Used by the main job,
 * the end-to-end scenarios and the benchmarks.
 */
export * from './lib/pipeline';
export * from './lib/final-states';
export * from './lib/main-job-report';
