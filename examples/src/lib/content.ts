/**
 * Vocabulary of the example batch. Every organisation, person and project is
 * fictional; the mix of names (accents, apostrophes, hyphens) is deliberate,
 * so normalization sees what real parsers hand over.
 */

/** An NSF solicitation: its code, assistance listing and the research it funds. */
export interface NsfProgram {
  code: string;
  aln: string;
  directorate: string;
  /** Days from `now` to the solicitation's deadline (local 5:00 p.m.). */
  deadlineInDays: number;
  topics: readonly string[];
}

/** NSF solicitations of the batch, one per assistance listing the pack allows. */
export const NSF_PROGRAMS: readonly NsfProgram[] = [
  {
    code: 'NSF 25-541',
    aln: '47.041',
    directorate: 'Engineering',
    deadlineInDays: 34,
    topics: [
      'Resilient Bridge Monitoring with Low-Cost Acoustic Sensors',
      'Bio-Inspired Soft Actuators for Assistive Rehabilitation Devices',
      'Additive Manufacturing of Recyclable Composite Structures',
      'Grid-Scale Thermal Storage Using Earth-Abundant Salts',
    ],
  },
  {
    code: 'NSF 25-549',
    aln: '47.049',
    directorate: 'Mathematical and Physical Sciences',
    deadlineInDays: 41,
    topics: [
      'Topological Phases in Twisted Bilayer Materials',
      'Machine-Learned Interatomic Potentials for Catalysis',
      'Stochastic Models of Protein Folding Landscapes',
      'Precision Measurements of Neutron Lifetime',
    ],
  },
  {
    code: 'NSF 24-590',
    aln: '47.050',
    directorate: 'Geosciences',
    deadlineInDays: 48,
    topics: [
      'Coastal Marsh Carbon Burial Under Sea-Level Rise',
      'Atmospheric Rivers and Wildfire Smoke Transport',
      'Groundwater Recharge in Semi-Arid Alluvial Basins',
      'Permafrost Thaw and Arctic River Chemistry',
    ],
  },
  {
    code: 'NSF 25-503',
    aln: '47.070',
    directorate: 'Computer and Information Science and Engineering',
    deadlineInDays: 29,
    topics: [
      'Privacy-Preserving Federated Learning for Rural Clinics',
      'Verified Compilers for Safety-Critical Embedded Systems',
      'Energy-Aware Scheduling for Edge Computing Clusters',
      'Trustworthy Speech Recognition for Low-Resource Languages',
    ],
  },
  {
    code: 'NSF 25-530',
    aln: '47.074',
    directorate: 'Biological Sciences',
    deadlineInDays: 55,
    topics: [
      'Pollinator Microbiomes Across Urban Heat Gradients',
      'Genomic Basis of Drought Tolerance in Native Grasses',
      'Neural Circuits of Seasonal Migration in Songbirds',
      'Host-Virus Arms Races in Freshwater Phytoplankton',
    ],
  },
  {
    code: 'NSF 25-522',
    aln: '47.075',
    directorate: 'Social, Behavioral and Economic Sciences',
    deadlineInDays: 38,
    topics: [
      'Household Decision-Making After Climate Displacement',
      'Trust in Local News and Civic Participation',
      'Language Acquisition in Bilingual Preschool Settings',
      'Labor Market Effects of Remote Work in Small Towns',
    ],
  },
  {
    code: 'NSF 25-511',
    aln: '47.076',
    directorate: 'STEM Education',
    deadlineInDays: 44,
    topics: [
      'Community College Pathways into Data Science',
      'Informal Astronomy Learning in Public Libraries',
      'Culturally Responsive Computing for Tribal Middle Schools',
      'Undergraduate Research Apprenticeships in Rural Colleges',
    ],
  },
  {
    code: 'NSF 24-612',
    aln: '47.079',
    directorate: 'International Science and Engineering',
    deadlineInDays: 62,
    topics: [
      'US-Mexico Collaboration on Aquifer Sustainability',
      'Joint Training Network for Volcanic Hazard Forecasting',
      'International Research Experiences in Tropical Ecology',
    ],
  },
  {
    code: 'NSF 25-583',
    aln: '47.083',
    directorate: 'Integrative Activities',
    deadlineInDays: 51,
    topics: [
      'Regional Research Infrastructure for Coastal Resilience',
      'Building Research Capacity in Quantum Sensing',
      'Statewide Consortium for Watershed Data Science',
    ],
  },
];

/** Title prefixes NSF applications use. */
export const NSF_TITLE_PREFIXES = [
  '',
  '',
  '',
  'Collaborative Research: ',
  'CAREER: ',
  'RAPID: ',
  'EAGER: ',
  'Conference: ',
];

/** Research organisations that apply to NSF; `domain` gives their e-mail domain. */
export const RESEARCH_ORGS: readonly { name: string; domain: string }[] = [
  { name: 'University of Northern Cascadia', domain: 'cascadia.edu' },
  { name: 'Riverbend State University', domain: 'riverbend.edu' },
  { name: 'Mesa Verde Institute of Technology', domain: 'mvit.edu' },
  { name: 'Great Lakes Research Foundation', domain: 'glrf.org' },
  { name: 'Piedmont College of Arts and Sciences', domain: 'piedmont.edu' },
  { name: 'Universidad del Valle de Tucsón', domain: 'uvt.edu' },
  { name: "St. Brigid's College", domain: 'stbrigids.edu' },
  { name: 'Appalachian Highlands Community College', domain: 'ahcc.edu' },
  { name: 'Bayou Coastal Sciences Consortium', domain: 'bayoucoastal.org' },
  { name: 'High Plains Agricultural Research Center', domain: 'hparc.org' },
  { name: 'Sonoran Desert Museum and Research Station', domain: 'sonoranmuseum.org' },
  { name: 'Kalani Pacific Marine Laboratory', domain: 'kalanimarine.org' },
  { name: 'Northwoods Tribal College', domain: 'northwoods.edu' },
  { name: 'Commonwealth Polytechnic University', domain: 'cpu.edu' },
  { name: 'Hudson Valley Science Center', domain: 'hvsc.org' },
  { name: 'Ozark Regional University', domain: 'ozark.edu' },
];

/** Community nonprofits that apply to the foundation and the state agency. */
export const COMMUNITY_ORGS: readonly { name: string; domain: string }[] = [
  { name: 'Riverbend Community Health Center', domain: 'riverbendhealth.org' },
  { name: 'Fundación Esperanza del Valle', domain: 'esperanzadelvalle.org' },
  { name: 'Harbor Lights Youth Arts Collective', domain: 'harborlights.org' },
  { name: 'Prairie Home Housing Trust', domain: 'prairiehome.org' },
  { name: 'Eastside Literacy Partners', domain: 'eastsideliteracy.org' },
  { name: 'Green Corridor Watershed Alliance', domain: 'greencorridor.org' },
  { name: 'Second Chance Reentry Network', domain: 'secondchance.org' },
  { name: "Neighbors' Table Food Cooperative", domain: 'neighborstable.org' },
  { name: 'Bridgewater Senior Services', domain: 'bridgewaterseniors.org' },
  { name: 'Lotus Immigrant Resource Center', domain: 'lotuscenter.org' },
  { name: 'Maple Street Music School', domain: 'maplestreetmusic.org' },
  { name: 'Westbank Tenants Union', domain: 'westbanktenants.org' },
  { name: 'Valley Farmworker Health Project', domain: 'farmworkerhealth.org' },
  { name: 'Open Door Family Shelter', domain: 'opendoorshelter.org' },
  { name: 'Citlali Cultural Arts Center', domain: 'citlaliarts.org' },
  { name: 'Delta Youth Science Club', domain: 'deltayouthscience.org' },
  { name: 'Central Coast Food Bank', domain: 'centralcoastfood.org' },
  { name: 'Sierra Foothills Land Trust', domain: 'sierrafoothills.org' },
  { name: 'Inland Empire Digital Inclusion Coalition', domain: 'iedigital.org' },
  { name: 'Golden Hills Community Clinic', domain: 'goldenhillsclinic.org' },
  { name: 'Mission District Small Business Fund', domain: 'missionfund.org' },
  { name: 'Kern River Youth Soccer League', domain: 'kernriversoccer.org' },
];

/** Given names; some carry accents that upstream parsers may hand over decomposed. */
export const GIVEN_NAMES = [
  'Maria',
  'José',
  'Aisha',
  'Wei',
  'Siobhán',
  'Daniel',
  'Priya',
  'Tomás',
  'Grace',
  'Kwame',
  'Zoë',
  'Hiroshi',
  'Fatima',
  'Michael',
  'Renée',
  'Olusegun',
  'Linh',
  'Samuel',
  'Chloé',
  'Rebecca',
  'Andrés',
  'Nadia',
  'Ethan',
  'Mei',
];

/** Family names. */
export const FAMILY_NAMES = [
  'López',
  'Okafor',
  'Chen',
  "O'Brien",
  'Patel',
  'Nguyen',
  'Hernández',
  'Smith-Whitaker',
  'Kowalski',
  'Yamamoto',
  'Haddad',
  'Johnson',
  'Mensah',
  'García',
  'Begay',
  'Lindqvist',
  'Rossi',
  'Kim',
  'Ibáñez',
  'Goldberg',
];

/** BCF projects by program area. */
export const BCF_PROJECTS: Readonly<Record<string, readonly string[]>> = {
  EDUCATION: [
    'After-School Reading Coaches for Grades 2-4',
    'Summer Bridge Program for First-Generation College Students',
    'Bilingual Family Literacy Nights',
    'Robotics Club Expansion at Eastside Middle School',
  ],
  HEALTH: [
    'Mobile Dental Clinic for Rural Schools',
    'Community Health Worker Diabetes Outreach',
    'Youth Mental Health First Aid Training',
    'Prenatal Care Navigation for Immigrant Families',
  ],
  ENVIRONMENT: [
    'Urban Tree Canopy Restoration in the Westbank Neighborhood',
    'River Cleanup and Native Planting Corps',
    'Household Composting Pilot for 400 Families',
    'Stormwater Rain Gardens at Public Schools',
  ],
  ARTS: [
    'Community Mural Apprenticeship for Teens',
    'Free Saturday Strings Program',
    'Oral History Theater with Senior Residents',
    'Public Library Poetry Residency',
  ],
  HOUSING: [
    'Emergency Rental Assistance Bridge Fund',
    'Home Repair Grants for Senior Homeowners',
    'Tenant Rights Clinics in Three Languages',
    'Supportive Housing Case Management',
  ],
};

/** SCDA projects (community development). */
export const SCDA_PROJECTS = [
  'Main Street Facade Improvement Program',
  'Broadband Access for Farmworker Housing',
  'Small Business Microloan Technical Assistance',
  'Community Center ADA Accessibility Upgrades',
  'Youth Workforce Training in Solar Installation',
  'Neighborhood Park Lighting and Safety Improvements',
  'Affordable Housing Predevelopment Study',
  'Food Business Incubator Kitchen Equipment',
  'Senior Center Kitchen Modernization',
  'Downtown Wayfinding and Accessibility Plan',
  'Digital Literacy Classes at Branch Libraries',
  'Childcare Provider Business Training',
];

/** Sentences a summary is built from; `{topic}` and `{org}` are filled in. */
export const SUMMARY_SENTENCES = [
  '{org} proposes {topic}.',
  'The project responds to needs documented in a community assessment completed last year.',
  'Activities are designed with and for the people they serve, and progress is reported quarterly.',
  'Outcomes will be measured against a baseline collected in the first three months.',
  'The team includes partners with long experience in the region.',
  'Results and materials will be shared openly with practitioners and other organizations.',
  'A part-time evaluator will track participation, retention and satisfaction.',
  'Funding will leverage commitments from local government and private donors.',
];

/** Extra sentences of an NSF project summary (intellectual merit and broader impacts). */
export const NSF_SUMMARY_SENTENCES = [
  'Intellectual Merit: the work tests a new model against field and laboratory data and will release its code and data under an open license.',
  'Broader Impacts: undergraduates from groups underrepresented in STEM will join every phase of the research through paid apprenticeships.',
  'The project trains two graduate students and one postdoctoral researcher in interdisciplinary methods.',
  'Findings will inform regional planners and will be presented at public workshops each year.',
];

/** Budget line items of the XLSX budgets, with their typical share of the total. */
export const BUDGET_LINES: readonly { item: string; share: number }[] = [
  { item: 'Personnel (salaries and wages)', share: 0.46 },
  { item: 'Fringe benefits', share: 0.12 },
  { item: 'Travel', share: 0.04 },
  { item: 'Supplies and materials', share: 0.08 },
  { item: 'Contractual services', share: 0.1 },
  { item: 'Participant support costs', share: 0.06 },
  { item: 'Other direct costs', share: 0.03 },
  { item: 'Indirect costs', share: 0.11 },
];

/** Parser software names, written into unmapped metadata keys. */
export const PARSERS = [
  'FormIngest 4.2.1',
  'PDFParse Pro 11',
  'Grants.gov XML export',
  'BudgetSync 2.0 (Excel)',
  'Portal API v3',
];
