// grantstream: waiting for topics created a moment ago.
//
// kafkajs 2.2.4 waits for new topics' leaders by asking the broker it sent
// CreateTopics to for their metadata, and retries only LEADER_NOT_AVAILABLE.
// In KRaft that broker is any broker, and one that has not yet applied the
// controller's record answers UNKNOWN_TOPIC_OR_PARTITION for a topic that was
// just created: createTopics failed although the topics existed (seen on a
// three-node cluster). Both answers mean "not settled yet" here; every other
// error still fails at once, and the wait is bounded by `maxWait`.
const waitFor = require('../src/utils/waitFor')

const SETTLING_ERRORS = Object.freeze(['LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION'])

/**
 * Calls `fn` every `delay` ms until it returns a truthy value, for at most
 * `maxWait` ms, treating the settling errors as "not yet".
 */
const waitWhileTopicsSettle = (fn, opts = {}) =>
  waitFor(async () => {
    try {
      return await fn()
    } catch (e) {
      if (!SETTLING_ERRORS.includes(e.type)) throw e
      return false
    }
  }, opts)

module.exports = { waitWhileTopicsSettle, SETTLING_ERRORS }
