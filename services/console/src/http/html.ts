import { escapeHtml } from '@grantstream/audit';

/**
 * Markup that is safe to put in a page as it is: only {@link html} makes
 * it, so every value that reaches a page went through escaping unless code
 * here wrote it as markup on purpose.
 */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What a template may interpolate: markup, text (escaped), lists of either, or nothing. */
export type HtmlValue =
  | SafeHtml
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.markup;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/**
 * The console's only way to write HTML: every interpolated value is escaped
 * (`& < > " '`) unless it is itself {@link SafeHtml}. Grant metadata,
 * attachment filenames, portal messages and dead-letter headers come from
 * outside and must render as text, never as markup or script.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
