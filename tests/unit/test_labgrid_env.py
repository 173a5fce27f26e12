"""`nuwa labgrid-env`: the environment labgrid reads for a built image."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from nuwa import board, cli
from nuwa.errors import NuwaError
from nuwa.target.labgrid_env import environment, write

TOP = Path(__file__).resolve().parents[2]


def fake_image(d: Path) -> Path:
    d.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img", "rootfs.img"):
        (d / name).write_bytes(b"x")
    return d


def test_environment_boots_our_image_and_drives_it(tmp_path: Path) -> None:
    b = board.load("qemu-arm-virt")
    img = fake_image(tmp_path / "img")
    env = environment(b, img, 40022, tmp_path / "key", mem=96)
    main = env["targets"]["main"]
    qemu = main["drivers"]["QEMUDriver"]
    assert env["images"] == {"kernel": str(img / "vmlinuz"), "initrd": str(img / "initrd.img"),
                             "disk": str(img / "rootfs.img")}
    assert qemu["kernel"] == "kernel" and qemu["memory"] == "96M"
    assert (qemu["machine"], qemu["cpu"]) == (b.qemu.machine, b.qemu.cpu)
    assert f"console={b.console}" in qemu["boot_args"] and "root=/dev/vda" in qemu["boot_args"]
    args = shlex.split(qemu["extra_args"])
    assert args[args.index("-initrd") + 1] == str(img / "initrd.img")
    assert any(str(img / "rootfs.img") in a and "readonly=on" in a for a in args)
    assert "hostfwd=tcp:127.0.0.1:40022-:22" in qemu["extra_args"]
    assert "-append" not in args  # QEMUDriver refuses it in extra_args
    assert main["resources"]["NetworkService"] == {"address": "127.0.0.1", "port": 40022,
                                                   "username": "root"}
    assert main["drivers"]["SSHDriver"]["keyfile"] == str(tmp_path / "key")
    # The console prompt regex matches what /etc/profile's PS1 shows for root.
    profile = (TOP / "rootfs-overlay/etc/profile").read_text()
    ps1 = re.search(r"^PS1='(.*)'$", profile, re.MULTILINE)
    assert ps1 and ps1[1] == r"\h:\w\$ "
    prompt = main["drivers"]["ShellDriver"]["prompt"]
    assert re.search(prompt, f"{b.hostname}:~# ") and re.search(prompt, f"{b.hostname}:/tmp# ")


def test_written_file_is_yaml_labgrid_reads(tmp_path: Path) -> None:
    from labgrid import Environment

    b = board.load("qemu-arm-virt")
    path = tmp_path / "env.yaml"
    write(path, environment(b, fake_image(tmp_path / "img"), 40022, tmp_path / "key"))
    assert yaml.safe_load(path.read_text())["targets"]["main"]
    target = Environment(config_file=str(path)).get_target("main")
    assert target is not None
    assert target.get_resource("NetworkService").port == 40022


def test_missing_image_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NuwaError, match="no image"):
        environment(board.load("qemu-arm-virt"), tmp_path, 1, tmp_path / "k")
    monkeypatch.setenv("NUWA_OUT", str(tmp_path / "out"))
    assert cli.main(["labgrid-env", "-o", str(tmp_path / "e.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.count("nuwa: error:") == 1 and "nuwa image" in err
    assert not (tmp_path / "e.yaml").exists()
