"""Schemathesis against a running demo server: `cargo xtask fuzz-api` runs this with the
venv's Python (never part of `cargo xtask test`).

Environment: TEPAT_URL (http://127.0.0.1:PORT), TEPAT_PASSWORD (the demo password),
FUZZ_OUT (a directory for the reports), FUZZ_EXAMPLES (test cases per operation and
phase), FUZZ_SEED, FUZZ_WORKERS.

For each account (the demo admin and a facilitator) it signs in, runs `st run` over the
served OpenAPI document with that account's bearer token, and reads the HAR (every
request and its answer) and the JSON report (the failed checks). The last line is
`FUZZ-RESULT {json}`: requests, 5xx answers and schema disagreements (failed checks
other than the server-error check), per account and in total. The exit code is non-zero
when any 5xx was answered or any check failed.

Logout is fuzzed without a token only: with one, it would end the run's own session.
No request or response body is printed (the demo families are made up, but the habit
holds).
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

URL = os.environ["TEPAT_URL"].rstrip("/")
PASSWORD = os.environ["TEPAT_PASSWORD"]
OUT = Path(os.environ["FUZZ_OUT"])
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "30")
SEED = os.environ.get("FUZZ_SEED", "2026")
WORKERS = os.environ.get("FUZZ_WORKERS", "2")
ACCOUNTS = ["pendamping1", "admin"]
ST = str(Path(sys.executable).parent / "st")


def login(username):
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    req = urllib.request.Request(
        f"{URL}/api/v1/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["token"]


def fuzz(name, token):
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        ST,
        "--config-file",
        str(Path(__file__).parent / "schemathesis.toml"),
        "run",
        f"{URL}/api/v1/openapi.json",
        "--url",
        f"{URL}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        WORKERS,
        "--generation-deterministic",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--report",
        "json,har",
        "--report-json-path",
        str(out / "report.json"),
        "--report-har-path",
        str(out / "requests.har"),
        "--no-color",
        "--output-truncate",
        "true",
    ]
    if token is None:
        cmd += ["--include-path", "/api/v1/auth/logout"]
    else:
        cmd += ["-H", f"Authorization: Bearer {token}", "--exclude-path", "/api/v1/auth/logout"]
    with open(out / "schemathesis.log", "w") as log:
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    report = json.loads((out / "report.json").read_text())
    har = json.loads((out / "requests.har").read_text())
    entries = har["log"]["entries"]
    statuses = {}
    for e in entries:
        s = e["response"]["status"]
        statuses[s] = statuses.get(s, 0) + 1
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    disagreements = []
    for f in report["failures"]:
        if f["type"] == "not_a_server_error" or f["title"] == "Server error":
            continue
        disagreements.append(
            {"check": f["type"], "title": f["title"], "count": f["count"], "operations": f["operations"]}
        )
    result = {
        "requests": len(entries),
        "status_5xx": server_errors,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "disagreements": sum(d["count"] for d in disagreements),
        "failed_checks": disagreements,
        "errors": report["errors"],
        "exit_code": code,
    }
    print(
        f"fuzz-api {name}: {result['requests']} requests, {server_errors} answers 5xx, "
        f"{result['disagreements']} schema disagreements "
        f"({len(disagreements)} kinds), statuses {result['statuses']}"
    )
    for d in disagreements:
        print(f"  {d['check']}: {d['title']} ×{d['count']} in {', '.join(d['operations'])}")
    for e in report["errors"]:
        print(f"  error: {e['title']} ×{e['count']}")
    print(f"  log: {out / 'schemathesis.log'}")
    return result


def main():
    # Every token first: the admin's run changes accounts (passwords, assignments) and
    # runs last.
    tokens = {name: login(name) for name in ACCOUNTS}
    results = {}
    for name in ACCOUNTS:
        results[name] = fuzz(name, tokens[name])
    results["anonymous"] = fuzz("anonymous", None)
    total = {
        "requests": sum(r["requests"] for r in results.values()),
        "status_5xx": sum(r["status_5xx"] for r in results.values()),
        "disagreements": sum(r["disagreements"] for r in results.values()),
        "errors": sum(e["count"] for r in results.values() for e in r["errors"]),
    }
    print(
        f"fuzz-api total: {total['requests']} requests, {total['status_5xx']} answers 5xx, "
        f"{total['disagreements']} schema disagreements, {total['errors']} run errors"
    )
    print("FUZZ-RESULT " + json.dumps({"total": total, "accounts": results}))
    ok = total["status_5xx"] == 0 and total["disagreements"] == 0 and total["errors"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
