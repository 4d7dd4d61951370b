/**
 * The Lambda runtime table shipped with the controller, as data: end of standard support ("deprecation"), the
 * dates from which AWS blocks creating and then updating functions on the runtime, and the runtime to move to.
 * Taken from AWS's "Lambda runtimes" page (supported and deprecated runtime tables). A file given with
 * `--runtimes-file` (the chart can mount one) replaces this table as a whole when AWS moves a date.
 */
export const RUNTIME_TABLE_SOURCE = 'https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html';
// Architectures: the runtime tables' Architectures column (AL1 runtimes, nodejs10.x, python3.7, java8 and go1.x
// never ran on arm64; every runtime since lists both).
// Last reviewed 2026-12-01. Deprecation dates were cross-checked against other published copies of the page; most
// block-create/block-update dates were not (AWS moves them more often): `--runtimes-file` corrects them without a
// release.

export interface RuntimeRow {
  identifier: string;
  deprecation: string;
  blockCreate?: string;
  blockUpdate?: string;
  successor?: string;
  /** Only where Lambda does not run the runtime on both: the runtime tables list x86_64 alone for these. */
  architectures?: ('x86_64' | 'arm64')[];
}

export const RUNTIME_ROWS: readonly RuntimeRow[] = [
  // Supported (projected dates).
  { identifier: 'nodejs24.x', deprecation: '2028-04-30', blockCreate: '2028-06-01', blockUpdate: '2028-07-01' },
  {
    identifier: 'nodejs22.x',
    deprecation: '2027-04-30',
    blockCreate: '2027-06-01',
    blockUpdate: '2027-07-01',
    successor: 'nodejs24.x',
  },
  {
    identifier: 'nodejs20.x',
    deprecation: '2026-04-30',
    blockCreate: '2026-06-01',
    blockUpdate: '2026-07-01',
    successor: 'nodejs24.x',
  },
  { identifier: 'python3.14', deprecation: '2029-06-30', blockCreate: '2029-07-31', blockUpdate: '2029-08-31' },
  {
    identifier: 'python3.13',
    deprecation: '2029-06-30',
    blockCreate: '2029-07-31',
    blockUpdate: '2029-08-31',
    successor: 'python3.14',
  },
  {
    identifier: 'python3.12',
    deprecation: '2028-10-31',
    blockCreate: '2028-11-30',
    blockUpdate: '2029-01-10',
    successor: 'python3.14',
  },
  {
    identifier: 'python3.11',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'python3.14',
  },
  {
    identifier: 'python3.10',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'python3.14',
  },
  {
    identifier: 'python3.9',
    deprecation: '2025-12-15',
    blockCreate: '2026-06-01',
    blockUpdate: '2026-07-01',
    successor: 'python3.14',
  },
  { identifier: 'java25', deprecation: '2029-06-30', blockCreate: '2029-07-31', blockUpdate: '2029-08-31' },
  {
    identifier: 'java21',
    deprecation: '2029-06-30',
    blockCreate: '2029-07-31',
    blockUpdate: '2029-08-31',
    successor: 'java25',
  },
  {
    identifier: 'java17',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'java25',
  },
  {
    identifier: 'java11',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'java25',
  },
  {
    identifier: 'java8.al2',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'java25',
  },
  { identifier: 'dotnet10', deprecation: '2028-11-14', blockCreate: '2028-12-14', blockUpdate: '2029-01-15' },
  {
    identifier: 'dotnet8',
    deprecation: '2026-11-10',
    blockCreate: '2026-12-10',
    blockUpdate: '2027-01-11',
    successor: 'dotnet10',
  },
  { identifier: 'ruby3.4', deprecation: '2028-03-31', blockCreate: '2028-04-30', blockUpdate: '2028-05-31' },
  {
    identifier: 'ruby3.3',
    deprecation: '2027-03-31',
    blockCreate: '2027-04-30',
    blockUpdate: '2027-05-31',
    successor: 'ruby3.4',
  },
  {
    identifier: 'ruby3.2',
    deprecation: '2026-03-31',
    blockCreate: '2026-06-01',
    blockUpdate: '2026-07-01',
    successor: 'ruby3.4',
  },
  { identifier: 'provided.al2023', deprecation: '2029-06-30', blockCreate: '2029-07-31', blockUpdate: '2029-08-31' },
  {
    identifier: 'provided.al2',
    deprecation: '2026-06-30',
    blockCreate: '2026-07-31',
    blockUpdate: '2026-08-31',
    successor: 'provided.al2023',
  },
  // Deprecated already.
  {
    identifier: 'nodejs18.x',
    deprecation: '2025-09-01',
    blockCreate: '2026-02-03',
    blockUpdate: '2026-03-09',
    successor: 'nodejs24.x',
  },
  {
    identifier: 'nodejs16.x',
    deprecation: '2024-06-12',
    blockCreate: '2026-02-28',
    blockUpdate: '2026-03-31',
    successor: 'nodejs24.x',
  },
  {
    identifier: 'python3.8',
    deprecation: '2024-10-14',
    blockCreate: '2026-02-28',
    blockUpdate: '2026-03-31',
    successor: 'python3.14',
  },
  {
    identifier: 'dotnet6',
    deprecation: '2024-12-20',
    blockCreate: '2026-02-28',
    blockUpdate: '2026-03-31',
    successor: 'dotnet10',
  },
  {
    identifier: 'dotnet7',
    deprecation: '2024-05-14',
    blockCreate: '2024-07-29',
    blockUpdate: '2024-08-28',
    successor: 'dotnet10',
  },
  {
    identifier: 'java8',
    deprecation: '2024-01-08',
    blockCreate: '2024-02-08',
    blockUpdate: '2026-03-31',
    successor: 'java25',
    architectures: ['x86_64'],
  },
  {
    identifier: 'go1.x',
    deprecation: '2024-01-08',
    blockCreate: '2024-02-08',
    blockUpdate: '2026-03-31',
    successor: 'provided.al2023',
    architectures: ['x86_64'],
  },
  {
    identifier: 'provided',
    deprecation: '2024-01-08',
    blockCreate: '2024-02-08',
    blockUpdate: '2026-03-31',
    successor: 'provided.al2023',
    architectures: ['x86_64'],
  },
  {
    identifier: 'nodejs14.x',
    deprecation: '2023-12-04',
    blockCreate: '2024-01-09',
    blockUpdate: '2026-03-31',
    successor: 'nodejs24.x',
  },
  {
    identifier: 'python3.7',
    deprecation: '2023-12-04',
    blockCreate: '2024-01-09',
    blockUpdate: '2026-03-31',
    successor: 'python3.14',
    architectures: ['x86_64'],
  },
  {
    identifier: 'ruby2.7',
    deprecation: '2023-12-07',
    blockCreate: '2024-01-09',
    blockUpdate: '2026-03-31',
    successor: 'ruby3.4',
  },
  { identifier: 'dotnetcore3.1', deprecation: '2023-04-03', successor: 'dotnet10' },
  { identifier: 'nodejs12.x', deprecation: '2023-03-31', successor: 'nodejs24.x' },
  { identifier: 'python3.6', deprecation: '2022-07-18', successor: 'python3.14', architectures: ['x86_64'] },
  { identifier: 'dotnet5.0', deprecation: '2022-05-10', successor: 'dotnet10' },
  { identifier: 'dotnetcore2.1', deprecation: '2022-01-05', successor: 'dotnet10', architectures: ['x86_64'] },
  { identifier: 'nodejs10.x', deprecation: '2021-07-30', successor: 'nodejs24.x', architectures: ['x86_64'] },
  { identifier: 'ruby2.5', deprecation: '2021-07-30', successor: 'ruby3.4', architectures: ['x86_64'] },
  { identifier: 'python2.7', deprecation: '2021-07-15', successor: 'python3.14', architectures: ['x86_64'] },
];
