"""Fidelity of the Greenhouse v3 sandbox, checked by third-party clients.

requests-oauthlib runs the client-credentials grant (HTTP Basic client auth, as
Greenhouse documents) and validates the token response as RFC 6749 requires;
requests parses the Link headers. Usage: greenhouse_v3.py BASE_URL
"""

import os
import sys

# The sandbox serves plain HTTP on loopback; oauthlib insists on https otherwise.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import requests
from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

base = sys.argv[1].rstrip("/")
failures = []
passed = 0


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}")


creds = requests.get(f"{base}/_sandbox/credentials").json()
session = OAuth2Session(client=BackendApplicationClient(client_id=creds["client_id"]))
token = session.fetch_token(
    token_url=f"{base}/token",
    auth=HTTPBasicAuth(creds["client_id"], creds["client_secret"]),
    include_client_id=False,
)
check("token type", token.get("token_type", "").lower() == "bearer", token.get("token_type"))
check("token expiry", int(token.get("expires_in", 0)) > 0, token.get("expires_in"))

# Wrong client secret: the token endpoint answers 401 invalid_client.
bad = requests.post(
    f"{base}/token",
    auth=HTTPBasicAuth(creds["client_id"], "wrong"),
    data={"grant_type": "client_credentials"},
)
check("invalid client", bad.status_code == 401 and bad.json().get("error") == "invalid_client", bad.text)

# Unauthenticated API call.
r = requests.get(f"{base}/v3/applications")
check("unauthenticated 401", r.status_code == 401, r.status_code)

# Walk every page of applications through Link rel="next" as requests parses it.
ids, pages = [], 0
r = session.get(f"{base}/v3/applications", params={"per_page": 7})
while True:
    check("page status", r.status_code == 200, r.status_code)
    check("rate-limit headers", "X-RateLimit-Remaining" in r.headers, dict(r.headers))
    body = r.json()
    check("bare array", isinstance(body, list), type(body))
    ids.extend(a["id"] for a in body)
    pages += 1
    nxt = r.links.get("next", {}).get("url")
    check("no prev/last links", "prev" not in r.links and "last" not in r.links, r.links)
    if not nxt:
        break
    query = requests.utils.urlparse(nxt).query
    check("cursor is the only parameter", query.startswith("cursor=") and "&" not in query, nxt)
    if pages == 1:
        extra = session.get(nxt + "&per_page=7")
        check("cursor with other params is 422", extra.status_code == 422, extra.status_code)
    r = session.get(nxt)
check("several pages", pages > 1, pages)
check("id descending", ids == sorted(ids, reverse=True), ids[:5])
check("no duplicates", len(ids) == len(set(ids)), len(ids))

r = session.get(f"{base}/v3/applications", params={"per_page": 501})
check("per_page over 500 is 422", r.status_code == 422, r.status_code)

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
