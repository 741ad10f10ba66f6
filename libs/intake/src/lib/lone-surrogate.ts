import { fieldPath } from './field-path';
import type { FieldProblem } from './line-problem';

const LONE_SURROGATE = /\p{Cs}/u;

const describe = (s: string): string | null => {
  const match = LONE_SURROGATE.exec(s);
  if (!match) return null;
  const unit = match[0].charCodeAt(0).toString(16);
  return `holds a lone UTF-16 surrogate (\\u${unit} at offset ${match.index}), which UTF-8 cannot carry`;
};

/**
 * Every string of a decoded JSON value, object keys included, that holds a
 * lone UTF-16 surrogate, by field path, in document order. JSON text can
 * carry one (`"\ud800"`) and JSON.parse keeps it, but no UTF-8 byte sequence
 * stands for it: the Avro writer would put bytes on the topic that a strict
 * reader refuses, so such a line is refused before anything is sent. A key is
 * reported at the path of its object, the key itself escaped in the message,
 * so the report stays printable.
 */
export function loneSurrogateProblems(value: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // An explicit stack rather than recursion, and paths rebuilt from parent
  // links only when reported: a line may nest as deep as its author likes,
  // and the walk must neither overflow the call stack nor copy a path per node.
  const pending: Visit[] = [{ value, parent: null, key: null }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const v = next.value;
    if (typeof v === 'string') {
      const why = describe(v);
      if (why) problems.push({ field: fieldPath(pathOf(next)), message: why });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) {
        pending.push({ value: v[i], parent: next, key: i });
      }
    } else if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      for (const [key] of entries) {
        const why = describe(key);
        if (why) {
          problems.push({
            field: fieldPath(pathOf(next)),
            message: `key ${JSON.stringify(key)} ${why}`,
          });
        }
      }
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, child] = entries[i] as [string, unknown];
        pending.push({ value: child, parent: next, key });
      }
    }
  }
  return problems;
}

interface Visit {
  value: unknown;
  parent: Visit | null;
  key: string | number | null;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Visit | null = visit; at && at.key !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}
