import { describe, expect, it } from 'vitest';
import type { FieldType } from '@grantstream/rules';
import { type PresentValue, calendarDate, parseFieldValue } from './field-parsers';

type Row = [FieldType, PresentValue, string, string[]];

const NY = 'America/New_York';

function check(type: FieldType, raw: PresentValue, value: string, reasons: string[], tz = NY) {
  const parsed = parseFieldValue(type, raw, tz);
  expect(parsed.value).toBe(value);
  expect(parsed.steps.map((s) => s.reason)).toEqual(reasons);
}

describe('parseFieldValue', () => {
  describe('text', () => {
    it.each<Row>([
      ['text', 'Coastal Resilience', 'Coastal Resilience', []],
      ['text', '  Coastal Resilience ', 'Coastal Resilience', ['TRIMMED_WHITESPACE']],
      ['text', 'Coastal \n\t Resilience', 'Coastal Resilience', ['COLLAPSED_WHITESPACE']],
      ['text', 'Cafe\u0301', 'Caf\u00e9', ['UNICODE_NFC']],
      [
        'text',
        ' Cafe\u0301  Study ',
        'Caf\u00e9 Study',
        ['UNICODE_NFC', 'TRIMMED_WHITESPACE', 'COLLAPSED_WHITESPACE'],
      ],
      ['text', 42, '42', ['NUMBER_TO_TEXT']],
      ['text', ['a', 'b'], 'a; b', ['LIST_JOINED']],
      ['text', true, 'true', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('code', () => {
    it.each<Row>([
      ['code', 'NSF 24-583', 'NSF 24-583', []],
      [
        'code',
        ' nsf  24-583',
        'NSF 24-583',
        ['TRIMMED_WHITESPACE', 'COLLAPSED_WHITESPACE', 'CODE_UPPERCASED'],
      ],
      ['code', 'education', 'EDUCATION', ['CODE_UPPERCASED']],
      ['code', 47.041, '47.041', ['NUMBER_TO_TEXT']],
      ['code', 'Los  Angeles', 'LOS ANGELES', ['COLLAPSED_WHITESPACE', 'CODE_UPPERCASED']],
    ])('%s %j -> %j %j', check);
  });

  describe('list', () => {
    it.each<Row>([
      ['list', ['a', 'b'], 'a; b', ['LIST_JOINED']],
      ['list', [' a ', '', 'b'], 'a; b', ['TRIMMED_WHITESPACE', 'LIST_JOINED']],
      ['list', ['e\u0301'], '\u00e9', ['UNICODE_NFC', 'LIST_JOINED']],
      ['list', 'a; b', 'a; b', []],
      ['list', 'a;b ; c', 'a; b; c', ['LIST_JOINED']],
      ['list', ' a ', 'a', ['TRIMMED_WHITESPACE']],
      ['list', 7, '7', ['NUMBER_TO_TEXT']],
      ['list', false, 'false', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('amount', () => {
    it.each<Row>([
      ['amount', '$1,250.50', '125050', ['CURRENCY_TO_CENTS']],
      ['amount', '1250.5', '125050', ['CURRENCY_TO_CENTS']],
      ['amount', 'USD 1,250', '125000', ['CURRENCY_TO_CENTS']],
      ['amount', '1,250 USD', '125000', ['CURRENCY_TO_CENTS']],
      ['amount', 'us$ 10', '1000', ['CURRENCY_TO_CENTS']],
      ['amount', ' $ 499,999.99 ', '49999999', ['TRIMMED_WHITESPACE', 'CURRENCY_TO_CENTS']],
      ['amount', '-$5', '-500', ['CURRENCY_TO_CENTS']],
      ['amount', '$0.00', '0', ['CURRENCY_TO_CENTS']],
      ['amount', '12345678901234567890.12', '1234567890123456789012', ['CURRENCY_TO_CENTS']],
      ['amount', 1250, '125000', ['CURRENCY_TO_CENTS']],
      ['amount', 1250.5, '125050', ['CURRENCY_TO_CENTS']],
      ['amount', 0.1 + 0.2, '0.30000000000000004', ['NOT_PARSEABLE']],
      ['amount', ['$10'], '1000', ['LIST_JOINED', 'CURRENCY_TO_CENTS']],
      ['amount', '1250.505', '1250.505', ['NOT_PARSEABLE']],
      ['amount', '1.25M', '1.25M', ['NOT_PARSEABLE']],
      ['amount', '1,25', '1,25', ['NOT_PARSEABLE']],
      ['amount', '€100', '€100', ['NOT_PARSEABLE']],
      ['amount', ' about 5k ', 'about 5k', ['TRIMMED_WHITESPACE', 'NOT_PARSEABLE']],
      ['amount', '-$-5', '-$-5', ['NOT_PARSEABLE']],
      ['amount', true, 'true', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('date', () => {
    it.each<Row>([
      ['date', '2026-03-01', '2026-03-01', []],
      ['date', '2024-02-29', '2024-02-29', []],
      ['date', '03/01/2026', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', '3/1/2026', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', 'March 1, 2026', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', 'Mar 1 2026', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', 'sept. 30, 2026', '2026-09-30', ['DATE_TO_ISO8601']],
      // 02:00 UTC on March 1 is still February 28 evening in New York.
      ['date', '2026-03-01T02:00:00Z', '2026-02-28', ['DATE_TO_ISO8601']],
      ['date', '2026-03-01T02:00:00.000+00:00', '2026-02-28', ['DATE_TO_ISO8601']],
      ['date', '2026-03-01T10:00:00-05:00', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', '2026-03-01T23:30:00', '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', Date.parse('2026-03-01T15:00:00Z'), '2026-03-01', ['DATE_TO_ISO8601']],
      ['date', Date.parse('2026-03-01T03:00:00Z'), '2026-02-28', ['DATE_TO_ISO8601']],
      ['date', ' 2026-03-01 ', '2026-03-01', ['TRIMMED_WHITESPACE']],
      ['date', '2026-02-30', '2026-02-30', ['NOT_PARSEABLE']],
      ['date', '2025-02-29', '2025-02-29', ['NOT_PARSEABLE']],
      ['date', '13/01/2026', '13/01/2026', ['NOT_PARSEABLE']],
      ['date', 'Febtember 1, 2026', 'Febtember 1, 2026', ['NOT_PARSEABLE']],
      ['date', '2026-02-30T10:00:00Z', '2026-02-30T10:00:00Z', ['NOT_PARSEABLE']],
      ['date', '2026-03-01T25:00:00Z', '2026-03-01T25:00:00Z', ['NOT_PARSEABLE']],
      ['date', 'next spring', 'next spring', ['NOT_PARSEABLE']],
      ['date', 1.5, '1.5', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);

    it('takes an instant’s date in the given time zone', () => {
      check('date', '2026-03-01T02:00:00Z', '2026-03-01', ['DATE_TO_ISO8601'], 'UTC');
    });
  });

  describe('ein', () => {
    it.each<Row>([
      ['ein', '12-3456789', '12-3456789', []],
      ['ein', '123456789', '12-3456789', ['EIN_FORMATTED']],
      ['ein', '12 3456789', '12-3456789', ['EIN_FORMATTED']],
      ['ein', 123456789, '12-3456789', ['EIN_FORMATTED']],
      ['ein', ' 12-3456789', '12-3456789', ['TRIMMED_WHITESPACE']],
      ['ein', '1-23456789', '1-23456789', ['NOT_PARSEABLE']],
      ['ein', '12--3456789', '12--3456789', ['NOT_PARSEABLE']],
      ['ein', '12345678', '12345678', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('uei', () => {
    it.each<Row>([
      ['uei', 'ABCDEF123456', 'ABCDEF123456', []],
      ['uei', 'abcdef123456', 'ABCDEF123456', ['UEI_UPPERCASED']],
      ['uei', 'ABCD-EF12 3456', 'ABCDEF123456', ['UEI_UPPERCASED']],
      ['uei', 'ABCDEF12345', 'ABCDEF12345', ['NOT_PARSEABLE']],
      ['uei', 'ABCDEF12345!', 'ABCDEF12345!', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('email', () => {
    it.each<Row>([
      ['email', 'pi@univ.edu', 'pi@univ.edu', []],
      ['email', 'Jane.Doe@Univ.EDU', 'Jane.Doe@univ.edu', ['EMAIL_DOMAIN_LOWERCASED']],
      ['email', ' pi@univ.edu ', 'pi@univ.edu', ['TRIMMED_WHITESPACE']],
      ['email', 'pi.univ.edu', 'pi.univ.edu', ['NOT_PARSEABLE']],
      ['email', '@univ.edu', '@univ.edu', ['NOT_PARSEABLE']],
      ['email', 'pi@', 'pi@', ['NOT_PARSEABLE']],
      ['email', 'p i@univ.edu', 'p i@univ.edu', ['NOT_PARSEABLE']],
      ['email', 5, '5', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  describe('integer', () => {
    it.each<Row>([
      ['integer', '36', '36', []],
      ['integer', 36, '36', ['NUMBER_TO_TEXT']],
      ['integer', ' 36 ', '36', ['TRIMMED_WHITESPACE']],
      ['integer', '12 months', '12 months', ['NOT_PARSEABLE']],
      ['integer', 12.5, '12.5', ['NOT_PARSEABLE']],
      ['integer', '1e3', '1e3', ['NOT_PARSEABLE']],
    ])('%s %j -> %j %j', check);
  });

  it('records before and after of each step', () => {
    expect(parseFieldValue('amount', ' $1,250.50', NY).steps).toEqual([
      { reason: 'TRIMMED_WHITESPACE', before: ' $1,250.50', after: '$1,250.50' },
      { reason: 'CURRENCY_TO_CENTS', before: '$1,250.50', after: '125050' },
    ]);
    expect(parseFieldValue('text', ['a', 'b'], NY).steps).toEqual([
      { reason: 'LIST_JOINED', before: '["a","b"]', after: 'a; b' },
    ]);
    expect(parseFieldValue('integer', '12 months', NY).steps).toEqual([
      { reason: 'NOT_PARSEABLE', before: '12 months', after: '12 months' },
    ]);
  });
});

describe('calendarDate', () => {
  it.each<[number, number, number, string | undefined]>([
    [2026, 3, 1, '2026-03-01'],
    [2024, 2, 29, '2024-02-29'],
    [2026, 2, 29, undefined],
    [2026, 4, 31, undefined],
    [2026, 0, 1, undefined],
    [2026, 13, 1, undefined],
    [2026, 1, 0, undefined],
  ])('%i-%i-%i -> %s', (y, m, d, expected) => {
    expect(calendarDate(y, m, d)).toBe(expected);
  });
});
