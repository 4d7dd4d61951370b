/**
 * STS over the query protocol (form body in, XML out): GetCallerIdentity answers the signing principal's account,
 * AssumeRole issues credentials that select the role's account (src/emulator/accounts.ts).
 */
import { type AssumedSession, assumeRole, callerIdentityXml } from './accounts.ts';
import { AwsError } from './errors.ts';
import type { Operation } from './http-types.ts';
import type { EmulatorRuntime } from './runtime.ts';

export function routeSts(home: EmulatorRuntime, form: URLSearchParams, caller?: AssumedSession): Operation {
  const action = form.get('Action') ?? '';
  return {
    api: action || 'UnknownStsAction',
    run: () => {
      if (action === 'GetCallerIdentity') {
        return { status: 200, raw: callerIdentityXml(home, caller), contentType: 'text/xml' };
      }
      if (action === 'AssumeRole') return assumeRole(home, form, caller);
      throw new AwsError('InvalidAction', 400, `Could not find operation ${action} for version 2011-06-15`);
    },
  };
}

export function stsErrorXml(error: AwsError, requestId: string): string {
  const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>
`;
}
