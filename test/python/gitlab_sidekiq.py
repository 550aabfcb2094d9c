"""GitLab's Sidekiq Metrics API through Debian's python-gitlab, for test/e2e/gitlab-clients.e2e-spec.ts.

Usage: gitlab_sidekiq.py URL TOKEN
Prints one JSON object: for each of queue_metrics, process_metrics, job_stats and
compound_metrics, {"type": <class name of what python-gitlab returned>, "value": <the dict>} or,
when python-gitlab did not parse the body, the HTTP status and Content-Type it saw; for a call
that raised, {"type": "error", "exception": <class>, "response_code": ..., "error_message": ...}.
python-gitlab appends /api/v4 to URL itself.
"""

import json
import sys

import gitlab
import requests

CALLS = ("queue_metrics", "process_metrics", "job_stats", "compound_metrics")


def call(gl, name):
    try:
        result = getattr(gl.sidekiq, name)()
    except gitlab.exceptions.GitlabError as error:
        return {
            "type": "error",
            "exception": type(error).__name__,
            "response_code": error.response_code,
            "error_message": error.error_message,
        }
    if isinstance(result, requests.Response):
        return {
            "type": type(result).__name__,
            "status": result.status_code,
            "content_type": result.headers.get("Content-Type"),
        }
    return {"type": type(result).__name__, "value": result}


def main():
    url, token = sys.argv[1], sys.argv[2]
    gl = gitlab.Gitlab(url, private_token=token)
    out = {"python_gitlab": gitlab.__version__}
    for name in CALLS:
        out[name] = call(gl, name)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
