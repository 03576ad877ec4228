"""Fidelity of the Lever API v1 sandbox, checked by third-party clients.

requests-oauthlib runs the refresh-token grant (client credentials in the
form body, as Lever's Auth0 tenant takes them), validates the token response
as RFC 6749 requires and refreshes on expiry by itself; requests does Basic
auth with the API key and the offset paging. Run the sandbox with
--rate-limit 10/1 (Lever's documented limit). Usage: lever_v1.py BASE_URL
"""

import os
import time

# The sandbox serves plain HTTP on loopback; oauthlib insists on https otherwise.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import requests
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from common import base, check, credentials, finish


def patient(send):
    """Retries 429s with exponential backoff, as Lever asks clients to."""
    delay = 0.2
    for _ in range(8):
        r = send()
        if r.status_code != 429:
            return r
        time.sleep(delay)
        delay *= 2
    return r


creds = credentials()
secret, conn = creds["secret"], creds["connection"]
token_url = conn["tokenUrl"]
api = conn["baseUrl"].rstrip("/") + "/v1"
key_auth = HTTPBasicAuth(secret["apiKey"], "")

# API key: Basic auth, key as user name, blank password.
r = patient(lambda: requests.get(f"{api}/users", auth=key_auth))
check("api key", r.status_code == 200, r.status_code)
users = r.json()["data"]
check("integration user listed", any(u["id"] == conn["sub"] for u in users), users)
r = patient(lambda: requests.get(f"{api}/users"))
check("unauthenticated 401", r.status_code == 401, r.status_code)
check("error body", r.json().get("code") == "UnauthorizedError" and "message" in r.json(), r.text)
r = patient(lambda: requests.get(f"{api}/users", auth=HTTPBasicAuth("wrong-key", "")))
check("wrong key 401", r.status_code == 401, r.status_code)

# OAuth: the refresh grant, with rotation.
rt0 = secret["refreshToken"]
session = OAuth2Session(client_id=secret["clientId"])
token = session.refresh_token(
    token_url,
    refresh_token=rt0,
    client_id=secret["clientId"],
    client_secret=secret["clientSecret"],
)
check("token type", token.get("token_type", "").lower() == "bearer", token.get("token_type"))
check("token expiry", int(token.get("expires_in", 0)) == 3600, token.get("expires_in"))
check("refresh token rotated", token.get("refresh_token") not in (None, rt0), token.get("refresh_token"))
current = requests.get(f"{base}/_sandbox/credentials").json()["secret"]["refreshToken"]
check("credentials report the current refresh token", current == token["refresh_token"], current)

try:
    OAuth2Session(client_id=secret["clientId"]).refresh_token(
        token_url, refresh_token=rt0, client_id=secret["clientId"], client_secret=secret["clientSecret"]
    )
    check("old refresh token rejected", False, "no error")
except InvalidGrantError:
    check("old refresh token rejected", True)

try:
    OAuth2Session(client_id=secret["clientId"]).refresh_token(
        token_url, refresh_token=token["refresh_token"], client_id=secret["clientId"], client_secret="wrong"
    )
    check("wrong client secret rejected", False, "no error")
except OAuth2Error as e:
    check("wrong client secret rejected", e.error == "access_denied", e.error)

r = patient(lambda: session.get(f"{api}/tags"))
check("bearer token", r.status_code == 200, r.status_code)

# Walk every opportunity: `next` goes back as `offset`; the last page has
# hasNext false and no next.
ids, pages, offset = [], 0, None
while True:
    params = {"limit": 7}
    if offset:
        params["offset"] = offset
    r = patient(lambda: session.get(f"{api}/opportunities", params=params))
    check("page status", r.status_code == 200, r.status_code)
    check("no rate-limit headers", not any(h.lower().startswith("x-ratelimit") for h in r.headers), dict(r.headers))
    body = r.json()
    check("envelope", isinstance(body.get("data"), list) and isinstance(body.get("hasNext"), bool), body.keys())
    ids.extend(o["id"] for o in body["data"])
    pages += 1
    if not body["hasNext"]:
        check("no next on the last page", "next" not in body, body.keys())
        break
    offset = body["next"]
check("several pages", pages == 5, pages)
check("every opportunity", len(ids) == 30 and len(set(ids)) == 30, len(ids))
r = patient(lambda: session.get(f"{api}/opportunities", params={"offset": "0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94"}))
check("forged offset is 400", r.status_code == 400 and r.json().get("code") == "BadRequestError", r.text)
r = patient(lambda: session.get(f"{api}/opportunities", params={"limit": 101}))
check("limit over 100 is 400", r.status_code == 400, r.status_code)

# Notes, as the operator writes them.
opp = ids[3]
body = "AI match score: 80/100 (good match)\n[ats-operator:fidelity]"
r = patient(lambda: session.post(f"{api}/opportunities/{opp}/notes", params={"perform_as": conn["sub"]}, json={"value": body}))
check("note created", r.status_code == 201 and "noteId" in r.json()["data"], r.text)
r = patient(lambda: session.get(f"{api}/opportunities/{opp}/notes"))
values = [f["value"] for n in r.json()["data"] for f in n["fields"]]
check("note listed", body in values, values)

# Interviews, feedback and offers of an opportunity, paged as every list is.
def walk(path):
    items, offset = [], None
    while True:
        params = {"limit": 1}
        if offset:
            params["offset"] = offset
        r = patient(lambda: session.get(f"{api}{path}", params=params))
        body = r.json()
        if r.status_code != 200 or not isinstance(body.get("hasNext"), bool):
            check(f"{path} envelope", False, r.text)
            return items
        items.extend(body["data"])
        if not body["hasNext"]:
            check(f"{path} last page has no next", "next" not in body, body.keys())
            return items
        offset = body["next"]


staged = [o for o in (patient(lambda: session.get(f"{api}/opportunities", params={"limit": 100})).json()["data"])
          if len(o["stageChanges"]) >= 3]
check("opportunities past the phone screen", len(staged) > 0, len(staged))
if staged:
    opp = staged[0]["id"]
    interviews = walk(f"/opportunities/{opp}/interviews")
    check("an interview per stage reached", len(interviews) >= 2, len(interviews))
    check("interview fields", all({"panel", "date", "interviewers", "feedbackForms", "stage"} <= set(i) for i in interviews), interviews[:1])
    feedback = walk(f"/opportunities/{opp}/feedback")
    forms = {f for i in interviews for f in i["feedbackForms"]}
    check("feedback forms of the interviews", {f["id"] for f in feedback} == forms, (feedback, forms))
    offers = walk(f"/opportunities/{opp}/offers")
    check("offers list", isinstance(offers, list) and all("status" in o for o in offers), offers)

# Automatic refresh when a short-lived token expires mid-session.
requests.put(f"{base}/_sandbox/token_ttl", json={"seconds": 2})
saved = {}
rt = requests.get(f"{base}/_sandbox/credentials").json()["secret"]["refreshToken"]
auto = OAuth2Session(
    client_id=secret["clientId"],
    token={"access_token": "expired", "token_type": "Bearer", "refresh_token": rt, "expires_in": -10},
    auto_refresh_url=token_url,
    auto_refresh_kwargs={"client_id": secret["clientId"], "client_secret": secret["clientSecret"]},
    token_updater=lambda t: saved.update(t),
)
r = patient(lambda: auto.get(f"{api}/stages"))
check("auto refresh", r.status_code == 200 and saved.get("refresh_token") not in (None, rt), r.status_code)
first = dict(saved)
time.sleep(3)
r = patient(lambda: auto.get(f"{api}/stages"))
check("refresh after expiry", r.status_code == 200 and saved.get("access_token") != first.get("access_token"), r.status_code)
requests.put(f"{base}/_sandbox/token_ttl", json={"seconds": 3600})

# Rate limit: a token bucket, 10/s steady with bursts of 20; 429 without headers.
time.sleep(2.5)
with requests.Session() as s:
    s.auth = key_auth
    statuses, limited = [], None
    for _ in range(45):
        r = s.get(f"{api}/stages")
        statuses.append(r.status_code)
        if r.status_code == 429 and limited is None:
            limited = r
    ok = statuses.count(200)
    check("burst allowed", ok >= 20, statuses)
    check("then limited", limited is not None, statuses)
    if limited is not None:
        hdrs = {k.lower() for k in limited.headers}
        check("429 without rate-limit headers", "retry-after" not in hdrs and not any(h.startswith("x-ratelimit") for h in hdrs), hdrs)
        check("429 body", limited.json().get("code") == "TooManyRequests", limited.text)
    time.sleep(1.0)
    started = time.monotonic()
    refill = [s.get(f"{api}/stages").status_code for _ in range(15)]
    # About 10 tokens came back in the second; a few more while these ran.
    trickle = int((time.monotonic() - started) * 10) + 2
    check("refills at the steady rate", 9 <= refill.count(200) <= 10 + trickle, refill)

finish()
