import { grantFraction, type GrantFractionPurpose } from './hash';

/** One problem reported by the portal, in the shape of a 422 body's `errors` entries. */
export interface FieldMessage {
  field: string;
  message: string;
}

/** Form validation errors a portal returns with 422 at submission (Grants.gov wording). */
export const VALIDATION_ERRORS: readonly FieldMessage[] = [
  {
    field: 'SF424_4_0.ApplicantInformation.EmployerTaxpayerIdentificationNumber',
    message: 'SF424_4_0-Field 8b: Employer/Taxpayer Identification Number (EIN/TIN) is required.',
  },
  {
    field: 'SF424_4_0.ApplicantInformation.UEI',
    message: 'SF424_4_0-Field 8c: UEI must be 12 alphanumeric characters.',
  },
  {
    field: 'SF424_4_0.EstimatedFunding.FederalEstimatedFunding',
    message: 'SF424_4_0-Field 18a: Federal estimated funding must be greater than zero.',
  },
  {
    field: 'SF424_4_0.AuthorizedRepresentative.CertificationAgree',
    message:
      'SF424_4_0-Field 21: The authorized representative must agree to the certifications and assurances.',
  },
  {
    field: 'Attachments.ProjectNarrative',
    message:
      'Attachment file name must be 50 characters or fewer: Project_Narrative_Final_Revised_With_All_Appendices.pdf',
  },
];

/** Reasons an agency rejects an application after PROCESSING (REJECTED_WITH_ERRORS). */
export const AGENCY_REJECTIONS: readonly FieldMessage[] = [
  {
    field: 'SF424_4_0.ApplicantInformation.UEI',
    message: 'The UEI on the application does not match an active SAM.gov registration.',
  },
  {
    field: 'SF424_4_0.ApplicantInformation.UEI',
    message: "The applicant organization's SAM.gov registration has expired.",
  },
  {
    field: 'SF424_4_0.AuthorizedRepresentative',
    message: 'The submitter is not an Authorized Organization Representative for the applicant.',
  },
  {
    field: 'Attachments',
    message: 'Attachment file names must be unique within the application package.',
  },
];

/**
 * One or two messages of a catalogue, chosen by the grant id so the same
 * grant always gets the same complaint.
 */
export function messagesFor(
  grantId: string,
  catalogue: readonly FieldMessage[],
  purpose: GrantFractionPurpose,
): FieldMessage[] {
  const n = catalogue.length;
  const h = grantFraction(grantId, purpose) * n * 2;
  const first = Math.floor(h) % n;
  const out = [catalogue[first]!];
  if (h - Math.floor(h) < 0.3 && n > 1) out.push(catalogue[(first + 1) % n]!);
  return out;
}
