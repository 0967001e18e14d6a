"""Runs Singer's tap-zendesk (PyPI) unmodified against the simulator.

tap-zendesk sends every request to https://{subdomain}.zendesk.com, through
requests (its own calls and zenpy's) and aiohttp. The only change made here
is where those requests go: both libraries' send paths are wrapped so the
real host is swapped for the simulator's base URL. Then the tap's own
entry point runs with the command line given after the simulator URL.

usage: tap_zendesk_launcher.py SIM_URL [tap-zendesk arguments…]
"""

import sys

import aiohttp
import requests.adapters

SIM = sys.argv[1].rstrip("/")
del sys.argv[1]


def real_host(url):
    """The Zendesk host a URL names, if it names one."""
    text = str(url)
    if text.startswith("https://") and text.split("/")[2].endswith(".zendesk.com"):
        return text.split("/")[2]
    return None


def redirect(url):
    host = real_host(url)
    return SIM + str(url)[len("https://") + len(host):] if host else str(url)


_send = requests.adapters.HTTPAdapter.send


def send(self, request, **kwargs):
    """As a reverse proxy: the simulator is told the host asked for, so
    its links stay on it, and the answer looks like the real host's."""
    asked = request.url
    host = real_host(asked)
    if host:
        request.url = redirect(asked)
        request.headers["Host"] = host
        request.headers["X-Forwarded-Proto"] = "https"
    response = _send(self, request, **kwargs)
    request.url = asked
    response.url = asked
    return response


requests.adapters.HTTPAdapter.send = send

_request = aiohttp.ClientSession._request


async def _aio(self, method, str_or_url, **kwargs):
    host = real_host(str_or_url)
    if host:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Host"] = host
        headers["X-Forwarded-Proto"] = "https"
        kwargs["headers"] = headers
    return await _request(self, method, redirect(str_or_url), **kwargs)


aiohttp.ClientSession._request = _aio

import tap_zendesk  # noqa: E402  (after the redirect is in place)

sys.argv[0] = "tap-zendesk"
tap_zendesk.main()
