"""Reads an Enchant help desk back with enchant-python-client (PyPI), the
community client generated from the same spec, unmodified: every ticket
(paged list), each with its messages (embed=messages), every customer and
user. Its models raise on a missing required field or a wrong type, so a
simulator answer off the spec fails here. Prints one JSON document.

usage: enchant_readback.py BASE_URL TOKEN
"""
import json
import sys

from enchant_python_client import AuthenticatedClient
from enchant_python_client.api.customers import list_customers
from enchant_python_client.api.tickets import get_ticket, list_tickets
from enchant_python_client.api.users import list_users
from enchant_python_client.models.get_ticket_embed_item import GetTicketEmbedItem
from enchant_python_client.models.ticket_with_embeds import TicketWithEmbeds

base, token = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)


def pages(fn):
    page = 1
    while True:
        got = fn(client=client, page=page, per_page=100)
        if not isinstance(got, list):
            raise SystemExit(f"{fn.__module__}: expected a list, got {type(got).__name__}: {got}")
        yield from got
        if len(got) < 100:
            return
        page += 1


tickets = []
for t in pages(list_tickets.sync):
    # The generated parser falls back to the Envelope model when the
    # ticket model refuses the answer, hiding why: parse it here too.
    try:
        full = get_ticket.sync(t.id, client=client, embed=[GetTicketEmbedItem.MESSAGES])
    except Exception:
        raw = client.get_httpx_client().get(f"/tickets/{t.id}", params={"embed": "messages"}).json()
        TicketWithEmbeds.from_dict(raw)  # raises with the real reason
        raise
    tickets.append({
        "id": full.id,
        "state": str(full.state.value),
        "customer_id": full.customer_id,
        "label_ids": list(full.label_ids),
        "messages": [
            {"id": m.id, "type": str(m.type_.value), "body": m.body,
             "attachments": [{"name": a.name, "size": a.size} for a in m.attachments]}
            for m in full.messages
        ],
    })
customers = [c.id for c in pages(list_customers.sync)]
users = [u.email for u in pages(list_users.sync)]
print(json.dumps({"tickets": tickets, "customers": customers, "users": users}))
