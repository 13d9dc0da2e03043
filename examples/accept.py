"""Accept taskrouter-edge's pending reservations with Twilio's Python helper library: claim each
in the worker (so the console never decides it too), accept it at Twilio, and record Twilio's
answer. Needs `pip install twilio`, RESERVATIONS_URL, RESERVATIONS_API_TOKEN, TWILIO_ACCOUNT_SID
and TWILIO_AUTH_TOKEN."""
import argparse
import os
import sys

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--sid", action="append", help="accept only this reservation (repeatable)")
only = parser.parse_args().sid

worker = requests.Session()
worker.headers["Authorization"] = "Bearer " + os.environ["RESERVATIONS_API_TOKEN"]
base = os.environ["RESERVATIONS_URL"].rstrip("/")
client = Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"])
if os.environ.get("TWILIO_TASKROUTER_URL"):  # a stand-in for TaskRouter, such as a mock server
    client.taskrouter.base_url = os.environ["TWILIO_TASKROUTER_URL"]


def pending():
    query = {"status": "pending", "limit": 1000}
    while query.get("cursor", "") is not None:  # the last page's cursor is null
        answer = worker.get(f"{base}/reservations", params=query)
        answer.raise_for_status()  # 401: RESERVATIONS_API_TOKEN is not the worker's
        yield from answer.json()["reservations"]
        query["cursor"] = answer.json()["cursor"]


def tell(sid, action, body):
    return worker.post(f"{base}/reservations/{sid}/{action}", json=body)


chosen = [r for r in pending() if not only or r["reservation_sid"] in only]
missing = set(only or []) - {r["reservation_sid"] for r in chosen}
for sid in missing:
    print(f"✗ {sid}  not pending in the worker")
failed = len(missing)
for r in chosen:
    sid = r["reservation_sid"]
    if (claim := tell(sid, "claim", {"decision": "accept"})).status_code != 200:
        print(f"- {sid}  {claim.json()['error']['message']}")  # 409: the console has it, or had it
        continue
    reservation = client.taskrouter.v1.workspaces(r["workspace_sid"]).tasks(r["task_sid"]).reservations(sid)
    try:
        reservation.update(reservation_status="accepted")
        status = "accepted"
    except TwilioRestException as error:
        # Twilio answers 400 to a reservation no longer pending: its record says what it is now.
        status = reservation.fetch().reservation_status if error.status == 400 else "pending"
        if status == "pending":
            tell(sid, "release", {"decision": "accept"})  # nothing changed: let others decide
            print(f"✗ {sid}  Twilio refused: {error.msg}")
            failed += 1
            continue
    recorded = tell(sid, "status", {"status": status}).status_code in (200, 409)  # 409: it knew better
    said = "accepted" if status == "accepted" else f"no longer pending: Twilio says it is {status}"
    print(f"{'✓' if status == 'accepted' else '✗'} {sid}  {said}{'' if recorded else ' (not recorded)'}")
    failed += status != "accepted" or not recorded
sys.exit(1 if failed else 0)
