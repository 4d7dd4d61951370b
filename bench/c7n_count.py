"""Runs Cloud Custodian's CLI and counts every AWS API call it makes (botocore's one entry point for a call).

    python c7n_count.py COUNTS.json custodian-args...

Writes {"calls": [[service, region, operation, n], ...]} to COUNTS.json when custodian finishes.
Retries inside botocore are not counted separately (moto never throttles, so there are none).

One adaptation of moto to AWS: c7n reads tags with GetResources(ResourceARNList=<up to 100 ARNs>) and does not
follow a PaginationToken there, because AWS answers such a list in one page; moto pages it (50 resources or 100
tags a page), so c7n would see a fraction of the tags and evaluate fewer functions. The hook asks moto for pages
of 100 resources / 500 tags on those calls. The call count is unchanged.
"""

import collections
import json
import sys

import botocore.client

counts = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    service = self.meta.service_model.service_name
    counts[(service, self.meta.region_name, operation_name)] += 1
    if (
        service == "resourcegroupstaggingapi"
        and operation_name == "GetResources"
        and "ResourceARNList" in api_params
        and "ResourcesPerPage" not in api_params
    ):
        api_params = dict(api_params, ResourcesPerPage=100, TagsPerPage=500)
    return _original(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _counting


def main():
    out = sys.argv[1]
    sys.argv = ["custodian"] + sys.argv[2:]
    from c7n.cli import main as custodian

    code = 0
    try:
        custodian()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0
    finally:
        with open(out, "w") as f:
            json.dump({"calls": [[s, r, o, n] for (s, r, o), n in sorted(counts.items())]}, f)
    sys.exit(code)


if __name__ == "__main__":
    main()
