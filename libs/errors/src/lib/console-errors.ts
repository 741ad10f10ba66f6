import type { ErrorCategory } from './error-category';
import { PipelineError } from './pipeline-error';

/**
 * Raised when the console's read model cannot use its store file: it cannot
 * be opened, or a newer version of the code wrote it (its rows may mean what
 * this version does not know). Not retriable: delete the file to rebuild it
 * from the topics, or run the newer version.
 */
export class ReadModelStoreError extends PipelineError {
  readonly code = 'READ_MODEL_STORE_UNUSABLE';
  readonly category: ErrorCategory = 'INFRASTRUCTURE';
  readonly retriable = false;
}

/**
 * Raised at the console's start when its users file cannot be read or holds
 * an entry that is not a user with a role and a scrypt password hash: a
 * console that started anyway would let nobody in, or the wrong people.
 */
export class ConsoleUsersFileError extends PipelineError {
  readonly code = 'CONSOLE_USERS_FILE_INVALID';
  readonly category: ErrorCategory = 'CONFIGURATION';
  readonly retriable = false;
}
