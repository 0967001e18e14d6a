"""Runs Singer's tap-kustomer (PyPI) unmodified against the simulator.

tap-kustomer's base URL is a constant built in KustomerClient.__init__
(https://api.kustomerapp.com/v1). The only change made here is that
address: after the client's own __init__ runs, base_url is pointed at the
simulator. Then the tap's own entry point runs with the remaining
command line.

usage: tap_kustomer_launcher.py SIM_URL [tap-kustomer arguments…]
"""

import sys

import tap_kustomer
from tap_kustomer import client as tap_client

SIM = sys.argv[1].rstrip("/")
del sys.argv[1]

_init = tap_client.KustomerClient.__init__


def _init_at_sim(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.base_url = SIM + "/v1"


tap_client.KustomerClient.__init__ = _init_at_sim

if __name__ == "__main__":
    tap_kustomer.main()
