import type { VerificationReport } from '@grantstream/audit';
import type { FinalState } from './final-states';
import type { GrantOutcome } from './pipeline';

/** p50 and p99 of the milliseconds from submission to a terminal status; 0 when none. */
export interface TimeToTerminal {
  p50: number;
  p99: number;
}

/**
 * One funder's grants in the main job's report. `routed`, `blocked` and `dlq`
 * count where routing sent them; `accepted`, `rejected` and `duplicate` count
 * the final states of the forwarded ones; `deadLettered` counts dead letters
 * at any stage (a `dlq` outcome and a forwarded grant given up later alike).
 */
export interface MainJobFunderRow {
  /** Applications of this funder in the batch. */
  expected: number;
  routed: number;
  blocked: number;
  dlq: number;
  accepted: number;
  rejected: number;
  deadLettered: number;
  duplicate: number;
  /** RETRY events in the funder's audit trails. */
  retries: number;
  /** Grants forwarded to submission: equal to `routed`. */
  submitted: number;
  /** Over the grants that reached an accepted, rejected or duplicate state. */
  timeToTerminalMs: TimeToTerminal;
}

/** Where one grant ended, with the defect its fixture was built with. */
export interface MainJobGrantOutcome extends GrantOutcome {
  /** The example generator's defect for this application; null for a clean one. */
  defect: string | null;
  /** Its final state when routing forwarded it and it reached one; null otherwise. */
  final: FinalState | null;
}

/**
 * The signed Merkle log after the run: the latest checkpoint the run's
 * checkpointer signed once every audit event of the run was a leaf
 * (docs/checkpointer.md), checked with the log's verifier key.
 */
export interface MainJobCheckpoint {
  /** The log's origin, the checkpoint's first line. */
  origin: string;
  /** Leaves the checkpoint covers, history before the run included. */
  treeSize: number;
  /** RFC 9162 root hash of those leaves, hex. */
  rootHash: string;
  /** When the checkpointer signed it, ISO 8601. */
  signedAt: string | null;
  /** Audit records of the run's grants that are leaves under this checkpoint. */
  runEvents: number;
  /** Milliseconds from the end of the batch until the checkpoint covered the run. */
  waitedMs: number;
}

/**
 * What the main job (`npm start`) found, as `npm start -- --json` prints it
 * on one line of stdout; the end-to-end scenario reads it back. Field names
 * and values are the job's output contract: a change here is a change of
 * that output.
 */
export interface MainJobReport {
  /** Suffix of every grant id of the run, and the name of its directory under runs/. */
  runTag: string;
  /** True when nothing is missing, duplicated, unfinished or unlike the fixtures and every audit chain verifies. */
  ok: boolean;
  /** Applications in the batch. */
  applications: number;
  /** Applications with a routing outcome (routed, blocked or dead-lettered). */
  decided: number;
  /** Applications with no routing outcome when the wait ended. */
  missing: string[];
  /** Applications with more than one routing outcome. */
  duplicates: string[];
  /** Forwarded applications with no final state when the wait ended. */
  unfinished: string[];
  /** One line per application whose outcome differs from its fixture. */
  mismatches: string[];
  /** Per funder prefix of the grant id, in the batch's order. */
  byFunder: Record<string, MainJobFunderRow>;
  /** Per grant id with a routing outcome, in the order the outcomes were read. */
  outcomes: Record<string, MainJobGrantOutcome>;
  audit: {
    /** Grants with at least one audit record. */
    grants: number;
    /** Audit events read for the batch's grants. */
    events: number;
    ok: boolean;
    /** The first 20 findings of the hash-chain verification. */
    findings: VerificationReport['findings'];
  };
  /** Notifications the webhook sink stored; null when the webhook is not the simulator's sink. */
  notificationsDelivered: number | null;
  /** The services' /metrics as sampled while the batch ran. */
  metrics: {
    scrapes: number;
    /** Failed scrapes per service; empty when every scrape answered. */
    failures: Record<string, number>;
    /** Peak of each reported sample name (grantstream_*, RSS and heap), sorted by name. */
    peaks: Record<string, number>;
  };
  /** Over every funder's terminal grants. */
  timeToTerminalMs: TimeToTerminal;
  /** Milliseconds from the job's start to the report. */
  totalMs: number;
  /** The checkpoint covering the run's audit events; null when the run started no checkpointer. */
  checkpoint: MainJobCheckpoint | null;
}
