"""Points a requests session at the Zendesk simulator as a reverse proxy
would: requests for https://ferrysim.zendesk.com go to the simulator with
that Host and X-Forwarded-Proto, so the links it returns name the real
host and a client sees the answers as coming from the URL it asked for.
Shared by the zenpy scripts; nothing of the clients themselves changes."""

import requests
from requests.adapters import HTTPAdapter

SUBDOMAIN = "ferrysim"
REAL = "https://%s.zendesk.com" % SUBDOMAIN


def session_for(sim):
    sim = sim.rstrip("/")

    class ToSimulator(HTTPAdapter):
        def send(self, request, **kwargs):
            asked = request.url
            if asked.startswith(REAL):
                request.url = sim + asked[len(REAL):]
                request.headers["Host"] = REAL[len("https://"):]
                request.headers["X-Forwarded-Proto"] = "https"
            response = super().send(request, **kwargs)
            request.url = asked
            response.url = asked
            return response

    session = requests.Session()
    session.mount("https://", ToSimulator())
    return session
