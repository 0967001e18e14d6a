"""Writes to a Zendesk account through zenpy (PyPI), unmodified, the way a
delta load does: a ticket update with a comment and a status, a follow-up
of a closed ticket, added tags, an organization update, and an update of a
closed ticket, which Zendesk refuses. Requests go to the simulator through
the same adapter as zenpy_readback.py; everything else is zenpy's own.

Prints one JSON document with what zenpy got back.

usage: zenpy_writes.py SIM_URL EMAIL TOKEN OPEN_TICKET_ID CLOSED_TICKET_ID ORG_ID
"""

import json
import sys

from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket
from zenpy.lib.exception import APIException

from zendesk_sim_proxy import SUBDOMAIN, session_for

SIM, EMAIL, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
OPEN, CLOSED, ORG = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
session = session_for(SIM)
zd = Zenpy(subdomain=SUBDOMAIN, email=EMAIL, token=TOKEN, session=session)
out = {}

t = zd.tickets(id=OPEN)
t.comment = Comment(body="written by zenpy", public=False)
t.status = "pending"
audit = zd.tickets.update(t)
out["updated"] = audit.ticket.id

closed = zd.tickets(id=CLOSED)
created = zd.tickets.create(Ticket(
    via_followup_source_id=CLOSED,
    requester_id=closed.requester_id,
    subject="follow-up by zenpy",
    comment=Comment(body="after the close"),
))
out["follow_up"] = created.ticket.id

closed.comment = Comment(body="must be refused")
try:
    zd.tickets.update(closed)
    out["closed_error"] = None
except APIException as e:
    out["closed_error"] = str(e)

out["tags"] = sorted(zd.tickets.add_tags(OPEN, ["zenpy_tag"]))

o = zd.organizations(id=ORG)
o.notes = "noted by zenpy"
out["org_notes"] = zd.organizations.update(o).notes
json.dump(out, sys.stdout)
