"""Accept taskrouter-edge's pending reservations with Twilio's helper library (pip install twilio).
Set RESERVATIONS_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, and RESERVATIONS_API_TOKEN; behind
Cloudflare Access, an Access service token's CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET, sent
on every request to the worker (as CF-Access-Client-Id and CF-Access-Client-Secret)."""
import argparse
import os
import sys

import requests
import urllib3
from twilio.rest import Client

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--sid", action="append", help="accept only this reservation (repeatable)")
only = parser.parse_args().sid

missing = [name for name in ("RESERVATIONS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not os.environ.get(name)]
if not os.environ.get("RESERVATIONS_API_TOKEN") and not os.environ.get("CF_ACCESS_CLIENT_ID"):
    missing.append("RESERVATIONS_API_TOKEN (or CF_ACCESS_CLIENT_ID and CF_ACCESS_CLIENT_SECRET)")
if missing:
    sys.exit(f"accept.py: set {', '.join(missing)}")

worker = requests.Session()
if os.environ.get("RESERVATIONS_API_TOKEN"):
    worker.headers["Authorization"] = "Bearer " + os.environ["RESERVATIONS_API_TOKEN"]
if os.environ.get("CF_ACCESS_CLIENT_ID"):  # an Access service token, for a worker behind Access
    worker.headers["CF-Access-Client-Id"] = os.environ["CF_ACCESS_CLIENT_ID"]
    worker.headers["CF-Access-Client-Secret"] = os.environ.get("CF_ACCESS_CLIENT_SECRET", "")
base = os.environ["RESERVATIONS_URL"].rstrip("/")
client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
if os.environ.get("TWILIO_TASKROUTER_URL"):  # a stand-in for TaskRouter, such as a mock server
    client.taskrouter.base_url = os.environ["TWILIO_TASKROUTER_URL"]


def pending():
    query = {"status": "pending", "limit": 1000}
    while query.get("cursor", "") is not None:  # the last page's cursor is null
        answer = worker.get(f"{base}/reservations", params=query, timeout=30)
        answer.raise_for_status()  # 401: RESERVATIONS_API_TOKEN is not the worker's
        yield from answer.json()["reservations"]
        query["cursor"] = answer.json()["cursor"]


def unsent(error):
    """Whether no connection was ever made (DNS failure, connection refused): nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.exceptions.ConnectionError) and isinstance(reason, urllib3.exceptions.NewConnectionError)


def accept(r):
    """Whether the reservation is now accepted, and what to say."""
    url = f"{base}/reservations/{r['reservation_sid']}"
    claim = worker.post(f"{url}/claim", json={"decision": "accept", "owner": "accept.py"}, timeout=30)
    if claim.status_code == 409:  # decided, or being decided, by the console or another script
        error = claim.json()["error"]
        return error.get("settled", {}).get("status") == "accepted", error["message"]
    if claim.status_code != 200:  # no claim (no hub, unknown reservation): Twilio is not asked
        return False, f"not claimed ({claim.status_code}): {claim.json()['error']['message']}"
    token, until = claim.json()["token"], claim.json()["until"]  # the claim is this script's own
    reservation = client.taskrouter.v1.workspaces(r["workspace_sid"]).tasks(r["task_sid"]).reservations(r["reservation_sid"])
    try:
        reservation.update(reservation_status="accepted")
        status = "accepted"
    except Exception as refused:
        # 400 (often: no longer pending), 5xx or no answer: Twilio's own record says what happened.
        code, status = getattr(refused, "status", None), "pending"
        if unsent(refused):  # nothing reached TaskRouter: give the decision back at once
            worker.post(f"{url}/release", json={"claim_token": token}, timeout=30)
            return False, f"TaskRouter could not be reached, nothing was sent: {refused}"
        if code is None or code == 400 or code >= 500:
            try:  # never sent again blindly
                status = reservation.fetch().reservation_status
            except Exception as error:  # the claim stays ours until the reservation times out
                return False, f"outcome unknown ({refused}); reading it back failed too ({error}); yours until {until}"
        if status == "pending":  # nothing changed: let others decide
            worker.post(f"{url}/release", json={"claim_token": token}, timeout=30)
            return False, f"Twilio refused: {getattr(refused, 'msg', refused)}"
    update = {"status": status, "claim_token": token}  # settles the claim
    recorded = worker.post(f"{url}/status", json=update, timeout=30).status_code in (200, 409)
    said = "accepted" if status == "accepted" else f"no longer pending: Twilio says it is {status}"
    return status == "accepted" and recorded, said + ("" if recorded else " (not recorded in the worker)")


chosen = [r for r in pending() if not only or r["reservation_sid"] in only]
failed = 0
for sid in set(only or []) - {r["reservation_sid"] for r in chosen}:
    print(f"✗ {sid}  not pending in the worker")
    failed += 1
for r in chosen:
    accepted, said = accept(r)
    print(f"{'✓' if accepted else '✗'} {r['reservation_sid']}  {said}")
    failed += not accepted
sys.exit(1 if failed else 0)
