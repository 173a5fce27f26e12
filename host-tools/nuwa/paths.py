"""Where things live: the source tree, generated output, the download cache."""
import os
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def top() -> Path:
    """The source tree (holds board/, rootfs-overlay/, runtime/)."""
    return Path(os.environ.get("NUWA_TOP", TOP))


def out_dir() -> Path:
    return Path(os.environ.get("NUWA_OUT", top() / "out"))


def board_out(board: str) -> Path:
    return out_dir() / board


def logs_dir() -> Path:
    d = out_dir() / "logs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def cache_dir() -> Path:
    """Download cache and the SSH key pair; NUWA_CACHE overrides ~/.cache/nuwa."""
    env = os.environ.get("NUWA_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "nuwa"
