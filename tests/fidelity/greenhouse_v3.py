"""Fidelity of the Greenhouse v3 sandbox, checked by third-party clients.

requests-oauthlib runs the client-credentials grant of custom integrations and
the partner authorization code grant with rotating refresh tokens (HTTP Basic
client auth, as Greenhouse documents), validating each token response as RFC
6749 requires; requests parses the Link headers. Usage: greenhouse_v3.py BASE_URL
"""

import os

# The sandbox serves plain HTTP on loopback; oauthlib insists on https otherwise.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import requests
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from common import base, check, credentials, finish

creds = credentials()
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

# Users in the v3 shape; service accounts only when asked for (Airbyte asks).
users = session.get(f"{base}/v3/users").json()
check("users listed", len(users) > 0, users)
check("v3 user fields", all("primary_email" in u and "deactivated" in u and isinstance(u.get("emails"), list) for u in users), users[:1])
check("no v1 user fields", not any("primary_email_address" in u or "disabled" in u for u in users), users[:1])
check("service accounts hidden", all(u["id"] != creds["integration_user_id"] for u in users), [u["id"] for u in users])
everyone = session.get(f"{base}/v3/users", params={"show_service_accounts": "true"}).json()
isu = [u for u in everyone if u["id"] == creds["integration_user_id"]]
check("service account on request", len(isu) == 1 and isu[0]["primary_email"] == "", isu)

# The partner flow: authorize, redeem the code, refresh with rotation.
partner = creds["partner"]
app = OAuth2Session(
    client_id=partner["client_id"],
    redirect_uri=partner["redirect_uri"],
    scope=["harvest:applications:list", "harvest:users:list"],
)
url, state = app.authorization_url(partner["authorize_url"])
r = requests.get(url, allow_redirects=False)
check("authorize redirects", r.status_code == 302 and r.headers.get("Location", "").startswith(partner["redirect_uri"]), r.status_code)
partner_auth = HTTPBasicAuth(partner["client_id"], partner["client_secret"])
token = app.fetch_token(
    partner["token_url"],
    authorization_response=r.headers["Location"],
    auth=partner_auth,
    include_client_id=False,
)
rt1 = token.get("refresh_token")
check("code exchange", token.get("token_type", "").lower() == "bearer" and rt1, token.keys())
check("partner token acts as the user", app.get(f"{base}/v3/applications").status_code == 200)
token2 = app.refresh_token(partner["token_url"], auth=partner_auth)
check("refresh rotates", token2.get("refresh_token") not in (None, rt1), token2.get("refresh_token"))
try:
    OAuth2Session(client_id=partner["client_id"]).refresh_token(partner["token_url"], refresh_token=rt1, auth=partner_auth)
    check("used refresh token rejected", False, "no error")
except InvalidGrantError:
    check("used refresh token rejected", True)
try:
    OAuth2Session(client=BackendApplicationClient(client_id=partner["client_id"])).fetch_token(
        token_url=partner["token_url"], auth=partner_auth, include_client_id=False
    )
    check("partners may not use client credentials", False, "no error")
except OAuth2Error as e:
    check("partners may not use client credentials", e.error == "unauthorized_client", e.error)
followed = requests.get(app.authorization_url(partner["authorize_url"])[0]).json()
check("the redirect lands on the sandbox's callback", "code" in followed and "state" in followed, followed)

finish()
