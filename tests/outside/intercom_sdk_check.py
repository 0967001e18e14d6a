"""Intercom's official Python SDK (python-intercom 5.0.1, generated from
Intercom's OpenAPI), unmodified, against `ferry sim intercom`: every read a
migration makes, through the SDK's own pagers (cursor lists, search with
the pagination in the body, the companies scroll). Prints what it saw as
JSON for the Rust test to compare with the simulator's dump.

usage: intercom_sdk_check.py BASE_URL TOKEN
"""
import json
import sys

from intercom import Intercom, MultipleFilterSearchRequest, SingleFilterSearchRequest, StartingAfterPaging

base, token = sys.argv[1], sys.argv[2]
client = Intercom(token=token, base_url=base)
out = {}

me = client.admins.identify()
out["me"] = me.email
out["admins"] = sorted(a.id for a in client.admins.list().admins)
out["teams"] = sorted(t.id for t in client.teams.list().teams)
out["tags"] = sorted(t.id for t in client.tags.list().data)
out["segments"] = sorted(s.id for s in client.segments.list(include_count=True).segments)
out["data_attributes"] = sorted(
    d.name for d in client.data_attributes.list(model="contact", include_archived=True).data
)

# Cursor list across pages (the SDK follows pages.next.starting_after).
out["contacts"] = sorted(c.id for c in client.contacts.list(per_page=7))
# Search: pagination in the body, nested AND.
since = int(sys.argv[3]) if len(sys.argv) > 3 else 0
# The SDK's search pager asks for the next page with the first page's
# pagination again (5.0.1 passes `pagination`, not the answer's
# `starting_after`), so its iterator never ends on a second page: page by
# hand with the SDK's own call and types.
def search_all(call, **query):
    seen, after = [], None
    while True:
        page = call(pagination=StartingAfterPaging(per_page=9, starting_after=after), **query)
        seen.extend(page.items or [])
        nxt = page.response.pages.next if page.response.pages else None
        after = nxt.starting_after if nxt else None
        if not after:
            return seen


found = search_all(
    client.contacts.search,
    query=MultipleFilterSearchRequest(
        operator="AND",
        value=[
            SingleFilterSearchRequest(field="updated_at", operator=">", value=str(since)),
            SingleFilterSearchRequest(field="role", operator="=", value="user"),
        ],
    ),
)
out["users_updated_since"] = sorted(c.id for c in found)

out["conversations"] = sorted(c.id for c in client.conversations.list(per_page=11))
long = client.conversations.find(conversation_id="2000001")
parts = long.conversation_parts
out["long_parts"] = {"returned": len(parts.conversation_parts), "total_count": parts.total_count}
out["long_source_author"] = long.source.author.type

# The scroll: the SDK walks scroll_param until an empty page.
out["companies"] = sorted(c.id for c in client.companies.scroll())

tickets = search_all(
    client.tickets.search,
    query=SingleFilterSearchRequest(field="created_at", operator=">", value="0"),
)
out["tickets"] = sorted(t.id for t in tickets)
out["collections"] = sorted(c.id for c in client.help_centers.collections.list())
out["articles"] = sorted(a.id for a in client.articles.list())
print(json.dumps(out))
