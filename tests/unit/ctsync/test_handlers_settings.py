"""kopf's settings as the operator configures them: peering keep-alives short enough for a 30 s take-over."""

from __future__ import annotations

import kopf

from ctsync.config import Settings
from ctsync.handlers.settings import PEERING_LIFETIME, configure


def test_a_peering_replica_keeps_alive_for_20_s_so_a_standby_takes_over_a_killed_one_within_30_s() -> None:
    settings = kopf.OperatorSettings()
    configure(settings, Settings(peering="ctsync", priority=100))
    peering = settings.peering
    assert (peering.name, peering.priority, peering.mandatory, peering.standalone) == ("ctsync", 100, True, False)
    # kopf renews a keep-alive every lifetime minus 5 to 10 s; a killed replica's lasts at most the lifetime.
    assert peering.lifetime == PEERING_LIFETIME == 20


def test_a_standalone_replica_has_no_peering() -> None:
    settings = kopf.OperatorSettings()
    configure(settings, Settings())
    assert settings.peering.standalone
