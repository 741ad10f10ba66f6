/** One thing wrong with a line, where in the record it is. */
export interface FieldProblem {
  /** Where in the record, e.g. `attachments[0].uri`; `(root)` for the line as a whole. */
  field: string;
  message: string;
}

/** One thing wrong with one input line, located in its file. */
export interface LineProblem extends FieldProblem {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  /** The line's grant id, when it has a string one. */
  grantId: string | null;
}

/** `file:line: <grant_id>: <field>: <why>` (the grant id left out when unknown). */
export function formatLineProblem(p: LineProblem): string {
  return `${p.file}:${p.line}: ${p.grantId === null ? '' : `${p.grantId}: `}${p.field}: ${p.message}`;
}
