"""Launch phases (issue 13): every launch answer breaks launch_ms down into
the time between consecutive timestamps taken in nuwad and in the child."""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

import pytest
from nuwad_harness import Nuwad, wait_for

SANDBOX = ["sandbox_landlock_ruleset", "sandbox_ids_landlock", "sandbox_seccomp"]
# A template child is confined while single-threaded and then starts its
# workers (no signal round); exec mode's workers exist and get a round.
TEMPLATE_APP = ["groups_joined", "sandbox_landlock_ruleset", "sandbox_alone", *SANDBOX[1:],
                "threads_recreated", "library_opened", "entry_called", "ready"]
EXEC_APP = ["groups_joined", "sandbox_landlock_ruleset", "sandbox_other_threads",
            *SANDBOX[1:], "library_opened", "entry_called", "ready"]
# The marks each kind of launch must show, in this order (others may be between).
EXPECTED = {
    "spare": ["specialise_sent", "specialise_received", *TEMPLATE_APP],
    "no-spare": ["fork_sent", "child_running", "fds_rebuilt", "reseeded", *TEMPLATE_APP],
    "exec": ["spawn", "exec_main", "framework_init", *EXEC_APP],
}
ARGS = {"spare": [], "no-spare": ["--no-spare"], "exec": ["--mode", "exec"]}


def launch(d: Nuwad, kind: str) -> dict[str, object]:
    if kind == "spare":
        d.wait_ready(spare=True)
    answer = d.json("launch", "echo", *ARGS[kind])
    assert isinstance(answer, dict)
    assert answer["spare"] is (kind == "spare")
    return answer


def in_order(names: list[str], wanted: list[str]) -> bool:
    it = iter(names)
    return all(w in it for w in wanted)


@pytest.mark.parametrize("kind", ["spare", "no-spare", "exec"])
def test_phases_are_ordered_and_add_up_to_launch_ms(nuwad: Nuwad, kind: str) -> None:
    for _ in range(3):
        a = launch(nuwad, kind)
        phases = a["phases_ms"]
        assert isinstance(phases, dict), a
        names = list(phases)
        assert in_order(names, EXPECTED[kind]), f"{kind}: {names}"
        assert names[-1] == "ready"
        values = [float(v) for v in phases.values()]
        # Each is the time since the previous mark: none negative (the
        # marks are monotonic), together the request-to-ready time.
        assert min(values) >= 0, phases
        total = sum(values)
        launch_ms = float(a["launch_ms"])  # type: ignore[arg-type]
        assert total <= launch_ms + 0.001 * len(values) + 0.01, (total, a)
        assert total >= launch_ms - 0.001 * len(values) - 0.01, (total, a)
        nuwad.call("kill", str(a["pid"]))


def test_spare_phases_hold_only_what_follows_the_request(nuwad: Nuwad) -> None:
    """A spare's fork-time work (fds, epoll sets, seeds) was done before the
    request: not this launch's. Its threads start after the sandbox: that is."""
    a = launch(nuwad, "spare")
    names = list(a["phases_ms"])  # type: ignore[arg-type]
    assert not {"fork_sent", "child_running", "fds_rebuilt", "reseeded"} & set(names), names
    nuwad.call("kill", str(a["pid"]))


def test_spare_does_not_wake_nuwad_to_acknowledge(nuwad: Nuwad) -> None:
    """The spare sends nothing between reading its specialise message and
    the PHASES message (an acknowledgement woke nuwad in the middle of the
    launch): specialise_ms is the request to the spare's specialise_received
    mark, taken from the phases."""
    a = launch(nuwad, "spare")
    phases = a["phases_ms"]
    assert isinstance(phases, dict), a
    assert "specialise_acked" not in phases, phases
    received = float(phases["specialise_sent"]) + float(phases["specialise_received"])
    assert abs(float(a["specialise_ms"]) - received) <= 0.01, a  # type: ignore[arg-type]
    nuwad.call("kill", str(a["pid"]))


def test_spare_joins_its_groups_before_the_request(nuwad: Nuwad) -> None:
    """Its process group and cgroup are app-independent: made while it waits,
    so a launch through it does not wait for a cgroup migration."""
    spare = int(nuwad.wait_ready(spare=True)["spare_pid"])  # type: ignore[arg-type]
    in_cgroup = "apps get their own cgroup" in nuwad.log.read_text()

    def v2_cgroup() -> str:
        text = Path(f"/proc/{spare}/cgroup").read_text()
        return next(line[3:] for line in text.splitlines() if line.startswith("0::"))

    # nuwad lists the spare once forked; it joins right after, on its own.
    wait_for(lambda: os.getpgid(spare) == spare
             and (not in_cgroup or v2_cgroup().endswith(f"/spare-{spare}")), 10,
             "the spare in its own process group and cgroup")
    cgroup = v2_cgroup()
    a = launch(nuwad, "spare")
    assert a["pid"] == spare
    names = list(a["phases_ms"])  # type: ignore[arg-type]
    assert "pgid_set" not in names and "cgroup_made" not in names, names
    assert v2_cgroup() == cgroup
    nuwad.call("kill", str(spare))
    if in_cgroup:
        leaf = cgroup
        mount = next(line.split()[4] for line in Path("/proc/self/mountinfo").read_text()
                     .splitlines() if " - cgroup2 " in line)
        wait_for(lambda: not Path(mount + leaf).exists(), 10, "the spare's cgroup removed")


def fd_targets(pid: int) -> list[str]:
    fds = Path(f"/proc/{pid}/fd")
    out = []
    for fd in fds.iterdir():
        try:
            out.append(os.readlink(fd))
        except FileNotFoundError:
            pass
    return out


def test_spare_prepares_what_is_not_the_apps(nuwad: Nuwad) -> None:
    """While it waits, the spare opens its oom_score_adj and makes the
    Landlock ruleset with its own /proc/PID and the framework's paths
    (nuwa_sandbox_spare_prepare); the app uses and closes both."""
    spare = int(nuwad.wait_ready(spare=True)["spare_pid"])  # type: ignore[arg-type]
    # landlock_create_ruleset(NULL, 0, VERSION): the ABI, or -1 without Landlock.
    landlock = ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1) > 0

    def prepared() -> bool:
        targets = fd_targets(spare)
        return (f"/proc/{spare}/oom_score_adj" in targets
                and (not landlock or "anon_inode:[landlock-ruleset]" in targets))

    wait_for(prepared, 10, "the spare's oom_score_adj and Landlock ruleset open")
    a = launch(nuwad, "spare")
    assert a["pid"] == spare
    targets = fd_targets(spare)
    assert not [t for t in targets if "oom_score_adj" in t or "landlock" in t], targets
    nuwad.call("kill", str(spare))


def test_a_dead_spare_leaves_no_cgroup(nuwad: Nuwad) -> None:
    if "apps get their own cgroup" not in nuwad.log.read_text():
        pytest.skip("no app cgroups here")
    spare = int(nuwad.wait_ready(spare=True)["spare_pid"])  # type: ignore[arg-type]
    mount = next(line.split()[4] for line in Path("/proc/self/mountinfo").read_text()
                 .splitlines() if " - cgroup2 " in line)

    def leaf() -> Path | None:
        text = Path(f"/proc/{spare}/cgroup").read_text()
        rel = next(line[3:] for line in text.splitlines() if line.startswith("0::"))
        return Path(mount + rel) if rel.endswith(f"/spare-{spare}") else None

    found = wait_for(leaf, 10, "the spare in its cgroup")
    assert isinstance(found, Path) and found.is_dir()
    os.kill(spare, signal.SIGKILL)
    wait_for(lambda: not found.exists(), 10, "the dead spare's cgroup removed")
