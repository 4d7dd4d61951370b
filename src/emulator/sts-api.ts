/** STS GetCallerIdentity over the query protocol (form body in, XML out), so `whoami`-style checks work. */
import { randomUUID } from 'node:crypto';
import { AwsError } from './errors.ts';
import type { ApiResponse, Operation } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';

export function routeSts(rt: EmulatorRuntime, form: URLSearchParams): Operation {
  const action = form.get('Action') ?? '';
  return {
    api: action || 'UnknownStsAction',
    run: () => {
      if (action !== 'GetCallerIdentity') {
        throw new AwsError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`);
      }
      return getCallerIdentity(rt);
    },
  };
}

function getCallerIdentity(rt: EmulatorRuntime): ApiResponse {
  const account = rt.store.accountId;
  const xml = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::${account}:user/emulator</Arn>
    <UserId>AIDAEMULATOR000000001</UserId>
    <Account>${account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`;
  return { status: 200, raw: xml, contentType: 'text/xml' };
}

export function stsErrorXml(error: AwsError, requestId: string): string {
  const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>
`;
}
