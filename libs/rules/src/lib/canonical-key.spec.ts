import { describe, expect, it } from 'vitest';
import { canonicalKey } from './canonical-key';

describe('canonicalKey', () => {
  it.each([
    ['project_title', 'project_title'],
    ['Project Title', 'project_title'],
    ['project-title', 'project_title'],
    ['projectTitle', 'project_title'],
    ['ProjectTitle', 'project_title'],
    ['  Project   Title  ', 'project_title'],
    ['PROJECT_TITLE', 'project_title'],
    ['applicantEIN', 'applicant_ein'],
    ['EINNumber', 'ein_number'],
    ['CFDA Number', 'cfda_number'],
    ['address2Line', 'address2_line'],
    ["Descriptive Title of Applicant's Project", 'descriptive_title_of_applicant_s_project'],
    ['__pi.name__', 'pi_name'],
    ['e\u0301tude', '\u00e9tude'],
    ['Résumé Link', 'résumé_link'],
    ['---', ''],
  ])('%j -> %j', (input, expected) => {
    expect(canonicalKey(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const k of ['Project Title', 'applicantEIN', 'a--b__c']) {
      expect(canonicalKey(canonicalKey(k))).toBe(canonicalKey(k));
    }
  });
});
