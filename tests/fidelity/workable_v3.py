"""Fidelity of the Workable SPI v3 sandbox, checked by a third-party client.

requests sends the account token as a Bearer header, follows the absolute
`paging.next` URLs as given and parses the JSON; every call respects the
account-token limit (10 requests / 10 s) by honouring X-Rate-Limit-Remaining
and X-Rate-Limit-Reset, as Workable asks clients to.
Usage: workable_v3.py BASE_URL   (sandbox started with --rate-limit 10/10)
"""

import re
import time

import requests

from common import base, check, credentials, finish

api = f"{base}/spi/v3"
HEX_ID = re.compile(r"^[0-9a-f]{8}$")
RATE_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


creds = credentials()
session = requests.Session()
session.headers["Authorization"] = f"Bearer {creds['secret']['apiKey']}"
check("connection baseUrl", creds["connection"]["baseUrl"] == base, creds["connection"])
check("no token URL", creds["connection"]["tokenUrl"] is None, creds["connection"])

# When the current window ends (epoch seconds), per the last response.
reset_at = 0.0
remaining = None
limited = 0


def call(method, url, **kw):
    """One API call within the budget: waits out the window when it is spent."""
    global reset_at, remaining, limited
    for _ in range(5):
        if remaining == 0 and time.time() < reset_at:
            time.sleep(reset_at - time.time() + 0.05)
        r = session.request(method, url, **kw)
        missing = [h for h in RATE_HEADERS if h not in r.headers]
        check(f"rate-limit headers on {method} {r.status_code}", not missing, missing)
        if not missing:
            remaining = int(r.headers["X-Rate-Limit-Remaining"])
            reset_at = float(r.headers["X-Rate-Limit-Reset"])
            check("limit is 10", r.headers["X-Rate-Limit-Limit"] == "10", r.headers["X-Rate-Limit-Limit"])
            check("reset is an epoch in the next window", time.time() - 1 <= reset_at <= time.time() + 11, reset_at)
        if r.status_code != 429:
            return r
        limited += 1
        check("429 has an error body", "error" in r.json(), r.text)
        check("429 has no Retry-After", "Retry-After" not in r.headers, dict(r.headers))
        remaining = 0
    return r


# Authentication: a missing or wrong token is 401 {"error": "Not authorized"}.
r = call("GET", f"{api}/jobs", headers={"Authorization": None})
check("no token 401", r.status_code == 401 and r.json() == {"error": "Not authorized"}, r.text)
r = call("GET", f"{api}/jobs", headers={"Authorization": "Bearer wrong"})
check("wrong token 401", r.status_code == 401, r.status_code)

# Jobs: heavy text omitted from the list, the detail unwrapped with it.
r = call("GET", f"{api}/jobs", params={"state": "published"})
jobs = r.json()["jobs"]
check("published jobs", jobs and all(j["state"] == "published" for j in jobs), [j["state"] for j in jobs])
check("no paging on a short list", "paging" not in r.json(), r.json().get("paging"))
check("no description in list", all("description" not in j for j in jobs), jobs[0].keys())
job = call("GET", f"{api}/jobs/{jobs[0]['shortcode']}").json()
check("job detail unwrapped", job.get("shortcode") == jobs[0]["shortcode"] and "job" not in job, list(job)[:5])
check("job detail text", all(isinstance(job.get(k), str) for k in ("description", "full_description", "requirements", "benefits")), list(job))

# Walk every candidate through paging.next, as given.
ids, pages = [], 0
url, params = f"{api}/candidates", {"limit": 7}
while True:
    r = call("GET", url, params=params)
    check("page status", r.status_code == 200, r.status_code)
    body = r.json()
    page = [c["id"] for c in body["candidates"]]
    pages += 1
    if ids and page:
        check("since_id is inclusive: page starts at the announced id", page[0] == announced, (page[0], announced))
    ids.extend(page)
    if "paging" not in body:
        break
    nxt = body["paging"]["next"]
    check("next is absolute", nxt.startswith(f"{api}/candidates?"), nxt)
    announced = requests.utils.urlparse(nxt).query.split("since_id=")[1].split("&")[0]
    url, params = nxt, None
check("30 candidates", len(ids) == 30, len(ids))
check("5 pages of 7", pages == 5, pages)
check("hex ids", all(HEX_ID.match(i) for i in ids), ids[:3])
check("ids ascend", ids == sorted(ids), ids[:5])
check("no duplicates", len(set(ids)) == len(ids), len(ids))

# External recruiters (Airbyte's connection check reads them first).
recs = call("GET", f"{api}/recruiters").json()
check(
    "recruiters listed",
    isinstance(recs.get("recruiters"), list)
    and recs["recruiters"]
    and all(set(r) >= {"id", "name", "email"} for r in recs["recruiters"]),
    recs,
)

# Detail wrapped in "candidate"; deleted or unknown ids are 404.
cid = ids[0]
d = call("GET", f"{api}/candidates/{cid}").json()
check("candidate detail wrapped", d.get("candidate", {}).get("id") == cid, list(d))
cand = d["candidate"]
check("profile entries", cand["experience_entries"] is not None and cand["education_entries"], list(cand))
resume = requests.get(cand["resume_url"])
# The file as uploaded: PDF, Word, HTML or text, with its content type.
kinds = {b"%PDF-": "application/pdf", b"PK\x03\x04": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
magic = next((m for m in kinds if resume.content.startswith(m)), None)
check(
    "resume downloads without auth",
    resume.status_code == 200
    and (kinds[magic] == resume.headers.get("content-type") if magic else "SKILLS" in resume.text),
    (resume.status_code, resume.headers.get("content-type")),
)
r = call("GET", f"{api}/candidates/ffffffff")
check("unknown candidate 404", r.status_code == 404 and r.json() == {"error": "Not found"}, r.text)

# Writes: comment, tags (replace), custom attribute.
member = creds["connection"]["sub"]
r = call("POST", f"{api}/candidates/{cid}/comments", json={"member_id": member, "comment": {"body": "AI fit score: 77/100"}})
check("comment 201", r.status_code == 201 and isinstance(r.json().get("id"), str), r.text)
r = call("POST", f"{api}/candidates/{cid}/comments", json={"comment": {"body": "no member"}})
check("comment without member 422", r.status_code == 422 and "error" in r.json(), r.text)
call("PUT", f"{api}/candidates/{cid}/tags", json={"tags": ["ai-medium", "keep"]})
r = call("PUT", f"{api}/candidates/{cid}/tags", json={"tags": ["ai-strong", "keep"]})
check("tags replaced", r.status_code == 200 and r.json() == {"tags": ["ai-strong", "keep"]}, r.text)
r = call("PATCH", f"{api}/candidates/{cid}/update_custom_attribute_value", json={"custom_attribute_key": "nope", "value": 1})
check("unknown attribute 404", r.status_code == 404 and r.json() == {"error": "Not found"}, r.text)
r = call("PATCH", f"{api}/candidates/{cid}/update_custom_attribute_value", json={"custom_attribute_key": "ai_score", "value": 77})
check("attribute 200", r.status_code == 200, r.text)
writes = requests.get(f"{base}/_sandbox/applications/{cid}/writes").json()
check(
    "writes recorded",
    writes == {"notes": ["AI fit score: 77/100"], "tags": ["ai-strong", "keep"], "custom_fields": {"ai_score": 77}},
    writes,
)
acts = call("GET", f"{api}/candidates/{cid}/activities").json()["activities"]
check("comment in activities", any(a["action"] == "comment" and a["body"] == "AI fit score: 77/100" for a in acts), acts)

# The limit itself: spend the window without waiting; the 11th call in it is a 429.
for _ in range(12):
    r = session.get(f"{api}/stages")
    if r.status_code == 429:
        break
check("over the limit 429", r.status_code == 429, r.status_code)
check("429 says nothing remains", r.headers.get("X-Rate-Limit-Remaining") == "0", dict(r.headers))
check("429 has no Retry-After", "Retry-After" not in r.headers, dict(r.headers))
if "X-Rate-Limit-Reset" in r.headers:
    time.sleep(max(0.0, float(r.headers["X-Rate-Limit-Reset"]) - time.time()) + 0.05)
r = session.get(f"{api}/stages")
check("budget back after Reset", r.status_code == 200, r.status_code)
stats = requests.get(f"{base}/_sandbox/stats").json()
check("paced calls never hit 429", limited == 0 and stats["rate_limited"] == 1, (stats["rate_limited"], limited))

finish()
