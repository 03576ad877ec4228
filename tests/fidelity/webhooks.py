"""Fidelity of the sandboxes' webhooks, checked by a receiver written from the
vendors' documentation alone (header names compared in lower case): Python's http.server on loopback and hmac from
the standard library, verifying as each vendor's docs say (Greenhouse:
`Signature: sha256 <hex HMAC-SHA256(secret, body)>` and `Greenhouse-Event-ID`;
Lever: the official sample, HMAC-SHA256(signatureToken, token + triggeredAt)
compared to the body's `signature`; Workable: `X-Workable-Signature`, the hex
HMAC-SHA256 of the body with the account's API token). Webhooks are set up
through the vendor's API where it has one (Lever `/v1/webhooks`, Workable
`/spi/v3/subscriptions`), and a receiver that answers 500 once gets the same
delivery again. Usage: webhooks.py BASE_URL greenhouse|lever|workable
"""

import hashlib
import hmac
import json
import queue
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from requests.auth import HTTPBasicAuth

from common import base, check, credentials, finish

vendor = sys.argv[2]
received = queue.Queue()
# Answer 500 to the first delivery of each id, then 200: the vendor retries.
failed_once = set()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = delivery_key({k.lower(): v for k, v in self.headers.items()}, body)
        first = key not in failed_once and retry_check.is_set()
        if first:
            failed_once.add(key)
        received.put(({k.lower(): v for k, v in self.headers.items()}, body, 500 if first else 200))
        self.send_response(500 if first else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def delivery_key(headers, body):
    """What identifies a delivery across retries, per vendor."""
    if vendor == "greenhouse":
        return headers.get("greenhouse-event-id")
    if vendor == "lever":
        try:
            return json.loads(body).get("token")
        except ValueError:
            return None
    return hashlib.sha256(body).hexdigest()


retry_check = threading.Event()
server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/hook"


def next_delivery(what, timeout=10):
    try:
        return received.get(timeout=timeout)
    except queue.Empty:
        check(what, False, "nothing received")
        return None, None, None


def patient(send):
    """Retries 429s as the vendors ask (the check before this one may have spent
    the rate limit's budget): waits Retry-After, else backs off."""
    delay = 0.5
    for _ in range(10):
        r = send()
        if r.status_code != 429:
            return r
        time.sleep(float(r.headers.get("Retry-After", delay)))
        delay = min(delay * 2, 10)
    return r


def hexmac(key, msg):
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


creds = credentials()
secret = creds["secret"]
# Retries in milliseconds rather than minutes.
r = requests.put(f"{base}/_sandbox/webhook_timing", json={"scale": 0.0001})
check("time scale", r.status_code == 200, r.status_code)

if vendor == "greenhouse":
    key = "whsec-fidelity"
    # Configured as in Greenhouse's UI; it pings the URL first.
    r = requests.post(f"{base}/_sandbox/webhooks", json={"url": url, "secret": key})
    check("web hook created", r.status_code in (200, 201) and r.json().get("active"), r.text)
    headers, body, _ = next_delivery("ping")
    if body is not None:
        check("ping action", json.loads(body).get("action") == "ping", body[:200])

    def verify(headers, body):
        scheme, _, sig = headers.get("signature", "").partition(" ")
        return scheme == "sha256" and hmac.compare_digest(sig, hexmac(key, body))

elif vendor == "lever":
    api = creds["connection"]["baseUrl"].rstrip("/") + "/v1"
    r = patient(
        lambda: requests.post(
            f"{api}/webhooks",
            json={"url": url, "event": "applicationCreated"},
            auth=HTTPBasicAuth(secret["apiKey"], ""),
        )
    )
    check("webhook registered", r.status_code == 201, f"{r.status_code} {r.text[:200]}")
    token = r.json()["data"]["configuration"]["signatureToken"] if r.status_code == 201 else ""
    listed = patient(
        lambda: requests.get(f"{api}/webhooks", auth=HTTPBasicAuth(secret["apiKey"], ""))
    ).json()
    check(
        "GET omits the signing token",
        all("signatureToken" not in (w.get("configuration") or {}) for w in listed["data"]),
        listed,
    )

    def verify(headers, body):
        b = json.loads(body)
        # Lever's sample: createHmac('sha256', token).update(body.token + body.triggeredAt)
        msg = (b["token"] + str(b["triggeredAt"])).encode()
        fresh = abs(time.time() * 1000 - b["triggeredAt"]) < 5 * 60 * 1000
        return fresh and hmac.compare_digest(b["signature"], hexmac(token, msg))

else:
    api = f"{base}/spi/v3"
    auth = {"Authorization": f"Bearer {secret['apiKey']}"}
    r = patient(
        lambda: requests.post(
            f"{api}/subscriptions",
            json={"target": url, "event": "candidate_created"},
            headers=auth,
        )
    )
    check("subscription created", r.status_code in (200, 201), f"{r.status_code} {r.text[:200]}")
    key = secret["apiKey"]

    def verify(headers, body):
        return hmac.compare_digest(headers.get("x-workable-signature", ""), hexmac(key, body))


# A new application, announced signed; refused once, delivered again the same.
retry_check.set()
r = requests.post(f"{base}/_sandbox/applications", json={"count": 1})
check("application created", r.status_code == 200, r.status_code)
# Every attempt for one second after the first delivery's retry, by delivery.
attempts = {}
order = []
deadline = time.time() + 10
while time.time() < deadline:
    try:
        h, b, st = received.get(timeout=0.5)
    except queue.Empty:
        if order and len(attempts[order[0]]) >= 2:
            break
        continue
    k = delivery_key(h, b)
    if k not in attempts:
        order.append(k)
    attempts.setdefault(k, []).append((h, b, st))
check("a delivery arrived", bool(order), "nothing received")
if order:
    tries = attempts[order[0]]
    headers, body, status = tries[0]
    check("signature verifies", verify(headers, body), headers)
    check("answered 500", status == 500, status)
    check("json content type", headers.get("content-type", "").startswith("application/json"), headers)
    check("retried once after the 500, not after the 200", len(tries) == 2, len(tries))
    if len(tries) > 1:
        again, body2, status2 = tries[1]
        check("retry verifies", verify(again, body2), again)
        check("retry answered 200", status2 == 200, status2)
    # A tampered body no longer verifies (the check itself is not a tautology;
    # Lever signs only token and time: its replays are the receiver's to catch).
    tampered = body.replace(b"{", b"{ ", 1)
    check("tampered body refused", vendor == "lever" or not verify(headers, tampered), "")
    for k in order:
        check(f"every delivery verifies ({k})", all(verify(h, b) for h, b, _ in attempts[k]), k)
server.shutdown()
finish()
