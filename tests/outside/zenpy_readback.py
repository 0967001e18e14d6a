"""Reads back a Zendesk account through zenpy (PyPI), unmodified.

zenpy builds https://{subdomain}.zendesk.com/api/v2/...json URLs; the only
change made here is where those requests go: a requests adapter sends them
to the simulator given on the command line. Everything else (paths with
.json, pagination, auth header, JSON parsing) is zenpy's own.

Prints one JSON document: tickets (all, through the incremental export, which
includes archived tickets, and through the plain list) with their comments
and attachment digests, users with identities, organizations, groups and
custom object records.

usage: zenpy_readback.py SIM_URL EMAIL TOKEN [--oauth]
"""

import hashlib
import json
import sys

from zenpy import Zenpy

from zendesk_sim_proxy import REAL, SUBDOMAIN, session_for

SIM, EMAIL, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
OAUTH = "--oauth" in sys.argv
session = session_for(SIM)
if OAUTH:
    zd = Zenpy(subdomain=SUBDOMAIN, oauth_token=TOKEN, session=session)
else:
    zd = Zenpy(subdomain=SUBDOMAIN, email=EMAIL, token=TOKEN, session=session)


def digest(url):
    r = session.get(url)
    r.raise_for_status()
    return {"sha256": hashlib.sha256(r.content).hexdigest(), "size": len(r.content)}


def comment(c):
    return {
        "id": c.id,
        "author_id": c.author_id,
        "created_at": c.created_at,
        "public": c.public,
        "body": c.body,
        "html_body": c.html_body,
        "attachments": [
            dict(digest(a.content_url), file_name=a.file_name, declared_size=a.size)
            for a in (c.attachments or [])
        ],
    }


_me = zd.users.me()
out = {"me": _me.email, "me_id": _me.id}
listed = sorted(t.id for t in zd.tickets())
tickets = []
for t in zd.tickets.incremental(start_time=0, paginate_by_time=False):
    tickets.append({
        "id": t.id,
        "external_id": t.external_id,
        "status": t.status,
        "subject": t.subject,
        "requester_id": t.requester_id,
        "assignee_id": t.assignee_id,
        "group_id": t.group_id,
        "tags": sorted(t.tags or []),
        "comments": [comment(c) for c in zd.tickets.comments(ticket=t.id)],
    })
out["tickets"] = tickets
out["listed_ticket_ids"] = listed
users = []
for u in zd.users():
    users.append({
        "id": u.id,
        "external_id": u.external_id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "identities": sorted(i.value for i in zd.users.identities(id=u.id)),
    })
out["users"] = users
out["organizations"] = [
    {"id": o.id, "external_id": o.external_id, "name": o.name} for o in zd.organizations()
]
out["groups"] = [{"id": g.id, "name": g.name} for g in zd.groups()]
# zenpy has no custom objects API: the same session reads the records
# endpoint, following its cursor links as documented.
records = []
objs = session.get(REAL + "/api/v2/custom_objects.json").json()["custom_objects"]
for o in objs:
    url = REAL + "/api/v2/custom_objects/%s/records.json?page[size]=100" % o["key"]
    while url:
        page = session.get(url).json()
        for r in page["custom_object_records"]:
            records.append({"key": o["key"], "id": r["id"], "external_id": r["external_id"], "name": r["name"]})
        url = page["links"]["next"] if page["meta"]["has_more"] else None
out["custom_object_records"] = records
json.dump(out, sys.stdout)
