import type { DeadLetterQuery } from '@grantstream/read-model';
import type { DeadLetterForm } from '../pages/dead-letters.page';
import { field, parseTime } from '../pages/format';

/** The dead-letter filter as submitted (a list's query string, or a redrive's form fields). */
export function deadLetterForm(q: URLSearchParams): DeadLetterForm {
  return {
    category: field(q, 'category') ?? '',
    code: field(q, 'code') ?? '',
    stage: field(q, 'stage') ?? '',
    sourceTopic: field(q, 'sourceTopic') ?? '',
    from: field(q, 'from') ?? '',
    to: field(q, 'to') ?? '',
  };
}

/** The read-model query of a filter: the list and a filtered redrive select alike. */
export function deadLetterQuery(f: DeadLetterForm, limit: number): DeadLetterQuery {
  const q: DeadLetterQuery = { limit };
  if (f.category !== '') q.category = f.category;
  if (f.code !== '') q.code = f.code;
  if (f.stage !== '') q.stage = f.stage;
  if (f.sourceTopic !== '') q.sourceTopic = f.sourceTopic;
  const from = parseTime(f.from);
  const to = parseTime(f.to);
  if (from !== undefined) q.from = from;
  if (to !== undefined) q.to = to;
  return q;
}
