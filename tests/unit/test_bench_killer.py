"""Turning the low-memory killer on for the bench: config parsing and editing."""
import pytest
from nuwa.bench import killer
from nuwa.errors import NuwaError

DEVICE = """# nuwad on the device
[daemon]
template = /usr/libexec/nuwa/nuwa-template
tick_ms = 1000
include = /etc/nuwa/apps.d

[framework]
library = /usr/lib/nuwa/libnuwafw.so

[app echo]
library = /usr/lib/nuwa/app-echo.so
"""


def test_threshold_absent_means_off() -> None:
    assert killer.daemon_threshold(DEVICE) == 0


def test_threshold_only_from_daemon_section() -> None:
    conf = DEVICE.replace("tick_ms = 1000", "tick_ms = 1000\nlmk_threshold_kb = 20000")
    assert killer.daemon_threshold(conf) == 20000
    other = DEVICE + "lmk_threshold_kb = 5\n"  # inside [app echo]: not the daemon's
    assert killer.daemon_threshold(other) == 0
    with pytest.raises(NuwaError, match="not a number"):
        killer.daemon_threshold("[daemon]\nlmk_threshold_kb = lots\n")


def test_with_threshold_adds_to_daemon_only() -> None:
    out = killer.with_threshold(DEVICE, 13898)
    assert killer.daemon_threshold(out) == 13898
    assert out.count("lmk_threshold_kb") == 1
    assert out.index("lmk_threshold_kb") < out.index("[framework]")
    # everything else is unchanged
    assert [line for line in out.splitlines() if "lmk_threshold_kb" not in line] == \
        DEVICE.splitlines()


def test_with_threshold_replaces_an_existing_value() -> None:
    conf = DEVICE.replace("tick_ms = 1000", "lmk_threshold_kb = 0\ntick_ms = 1000")
    out = killer.with_threshold(conf, 9000)
    assert out.count("lmk_threshold_kb") == 1 and killer.daemon_threshold(out) == 9000


def test_with_threshold_without_daemon_section() -> None:
    out = killer.with_threshold("[framework]\nlibrary = x.so\n", 100)
    assert out.startswith("[daemon]\nlmk_threshold_kb = 100\n")
    assert killer.daemon_threshold(out) == 100
