import { describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../../src/aws/errors.ts';
import { encodedCodeRequestBytes, MAX_CODE_REQUEST_BYTES, MAX_ZIP_UPLOAD_BYTES } from '../../../src/aws/executor.ts';

describe('the UpdateFunctionCode request size', () => {
  const fields = { Architectures: ['arm64'], RevisionId: '4f6a2f7e-7d1b-4a3c-9a8e-0c1d2e3f4a5b' };

  it('is the base64 zip plus the JSON around it, byte for byte', () => {
    const zip = Buffer.alloc(1000, 7);
    const body = JSON.stringify({ ...fields, ZipFile: zip.toString('base64') });
    expect(encodedCodeRequestBytes(zip.length, fields)).toBe(Buffer.byteLength(body));
  });

  it('puts a package of exactly 50 MB zipped over the request limit of Lambda', () => {
    // 69905067 bytes is 4/3 of 50 MiB: the encoded request of a 50 MiB zip plus any JSON is not smaller.
    expect(encodedCodeRequestBytes(MAX_ZIP_UPLOAD_BYTES, fields)).toBeGreaterThanOrEqual(MAX_CODE_REQUEST_BYTES);
    expect(encodedCodeRequestBytes(MAX_ZIP_UPLOAD_BYTES - 1024, fields)).toBeLessThan(MAX_CODE_REQUEST_BYTES);
  });
});

describe('413 RequestEntityTooLargeException', () => {
  it('is Infeasible with the reason RequestTooLarge, so it is reported and never retried', () => {
    const error = classifyAwsError(
      Object.assign(new Error('Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation'), {
        name: 'RequestEntityTooLargeException',
        $metadata: { httpStatusCode: 413 },
      }),
      'UpdateFunctionCode',
    );
    expect(error).toMatchObject({ code: 'Infeasible', reason: 'RequestTooLarge', httpStatus: 413 });
    expect(error.message).toContain('69905067');
  });
});
