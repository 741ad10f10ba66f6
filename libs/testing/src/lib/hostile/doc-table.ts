import { HOSTILE_CLASSES, type HostileClass } from './hostile-classes';

/** Where docs/hostile-input.md keeps the generated table. */
export const HOSTILE_TABLE_MARKERS = {
  start: '<!-- hostile-classes:start -->',
  end: '<!-- hostile-classes:end -->',
} as const;

const cell = (text: string) => text.replace(/\|/g, '\\|');

/**
 * The table of hostile classes and where each must end, as docs/hostile-input.md
 * holds it between {@link HOSTILE_TABLE_MARKERS}; a spec fails when the two
 * differ, so the doc cannot drift from the suite.
 */
export function hostileClassTable(classes: readonly HostileClass[] = HOSTILE_CLASSES): string {
  const rows = classes.map((c) => {
    const where =
      c.expected.topic === 'grants.dlq.v1'
        ? `dead letter: ${c.expected.category} / ${c.expected.code}`
        : 'grants.validated.v1';
    return `| \`${c.name}\` | ${cell(c.description)} | ${where} |`;
  });
  return ['| class | input | ends in |', '| --- | --- | --- |', ...rows].join('\n');
}
