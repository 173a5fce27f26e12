"""A private apt for a foreign architecture: fetch .deb files into the cache.

apt resolves dependencies and verifies signatures, so nothing here parses
archive indexes by hand.  The archive comes from the host's own apt
configuration (read at run time), or from --mirror / NUWA_MIRROR.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NuwaError


@dataclass(frozen=True)
class Source:
    uri: str
    suite: str
    component: str


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    arch: str
    size: int = 0
    sha256: str = ""
    filename: str = ""  # pool path inside the archive

    @property
    def deb_name(self) -> str:
        # apt's own naming of cached archives (epoch colon escaped).
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


def host_sources(mirror: str | None = None) -> list[Source]:
    """The `deb` sources the host's apt knows; `mirror` replaces non-security URIs."""
    try:
        out = subprocess.run(
            ["apt-get", "indextargets", "--format",
             "$(TARGET_OF)|$(REPO_URI)|$(RELEASE)|$(COMPONENT)", "Created-By: Packages"],
            check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise NuwaError(f"cannot read the host's apt sources: {e}") from e
    sources: list[Source] = []
    for line in sorted(set(out.splitlines())):
        parts = line.split("|")
        if len(parts) != 4 or parts[0] != "deb" or not parts[3]:
            continue
        uri, suite, comp = parts[1], parts[2], parts[3]
        if mirror and not suite.endswith("-security"):
            uri = mirror
        src = Source(uri.rstrip("/") + "/", suite, comp)
        if src not in sources:
            sources.append(src)
    if not sources:
        raise NuwaError("the host's apt configuration names no 'deb' source; "
                        "use --mirror URL or NUWA_MIRROR")
    return sources


class PrivateApt:
    """apt-get/apt-cache with their own lists, archives and empty dpkg status."""

    def __init__(self, cache: Path, arch: str, sources: list[Source] | None,
                 offline: bool = False) -> None:
        self.arch = arch
        self.last_stderr = ""
        self.offline = offline
        self.root = cache / "apt" / arch
        self.archives = cache / "debs" / arch
        for d in ("etc/sources.list.d", "etc/preferences.d", "lists/partial",
                  "cache", "state"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        (self.archives / "partial").mkdir(parents=True, exist_ok=True)
        status = self.root / "state/status"
        if not status.exists():
            status.write_text("")
        self.sources_file = self.root / "etc/sources.list"
        if sources is not None:
            text = "".join(f"deb {s.uri} {s.suite} {s.component}\n" for s in sources)
            if not self.sources_file.exists() or self.sources_file.read_text() != text:
                self._write(self.sources_file, text)
        elif not self.sources_file.exists():
            raise NuwaError("no cached package sources; build once with network first")

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def _opts(self) -> list[str]:
        r = self.root
        opts = {
            "APT::Architecture": self.arch,
            "APT::Architectures": self.arch,
            "Dir::Etc::SourceList": str(self.sources_file),
            "Dir::Etc::SourceParts": str(r / "etc/sources.list.d"),
            "Dir::Etc::Preferences": str(r / "etc/preferences"),
            "Dir::Etc::PreferencesParts": str(r / "etc/preferences.d"),
            "Dir::State": str(r / "state"),
            "Dir::State::Lists": str(r / "lists"),
            "Dir::State::status": str(r / "state/status"),
            "Dir::Cache": str(r / "cache"),
            "Dir::Cache::Archives": str(self.archives),
            # apt's binary cache: without it every call re-parses the lists.
            "Dir::Cache::pkgcache": str(r / "cache/pkgcache.bin"),
            "Dir::Cache::srcpkgcache": str(r / "cache/srcpkgcache.bin"),
            "APT::Install-Recommends": "false",
            "APT::Install-Suggests": "false",
            "APT::Sandbox::User": "root",
            "Debug::NoLocking": "true",
            "Acquire::Languages": "none",
            # Fetch indexes by hash where the archive offers it (sync-safe).
            "Acquire::By-Hash": "force",
        }
        if self.offline:
            opts["Acquire::http::Proxy"] = "http://127.0.0.1:9"  # any fetch fails fast
        args: list[str] = []
        for k, v in opts.items():
            args += ["-o", f"{k}={v}"]
        return args

    def _run(self, tool: str, *args: str, what: str, cwd: Path | None = None) -> str:
        env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
        try:
            p = subprocess.run([tool, *self._opts(), *args], capture_output=True,
                               text=True, env=env, cwd=cwd)
        except OSError as e:
            raise NuwaError(f"{what}: cannot run {tool}: {e}") from e
        if p.returncode != 0:
            err = (p.stderr or p.stdout).strip().splitlines()
            tail = "\n  ".join(err[-6:])
            raise NuwaError(f"{what} failed:\n  {tail}")
        self.last_stderr = p.stderr
        return p.stdout

    def _lists_state(self) -> str:
        """Changes whenever the package lists or sources change."""
        h = hashlib.sha256(self.sources_file.read_bytes())
        for f in sorted((self.root / "lists").glob("*")):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.name} {st.st_size} {st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def _memo(self, kind: str, args: list[str], compute: Callable[[], Any]) -> Any:
        """Answers of apt for unchanged lists come from a small JSON cache:
        each apt call costs about a second, a warm build makes several."""
        key = hashlib.sha256(json.dumps([kind, args, self._lists_state()]).encode()).hexdigest()
        memo = self.root / "memo" / f"{key[:32]}.json"
        if memo.exists():
            try:
                return json.loads(memo.read_text())
            except ValueError:
                memo.unlink()
        value = compute()
        memo.parent.mkdir(exist_ok=True)
        self._write(memo, json.dumps(value))
        return value

    def have_lists(self) -> bool:
        return any(self.root.glob("lists/*_Packages*"))

    def update(self) -> None:
        """Refresh the package lists (online) or check they are cached (offline)."""
        if self.offline:
            if not self.have_lists():
                raise NuwaError("--offline: the cache holds no package lists "
                                f"({self.root / 'lists'}); build once with network first")
            return
        try:
            self._run("apt-get", "update", "-q", what="downloading package lists")
            problem = "\n  ".join(self.last_stderr.strip().splitlines()[-4:])
        except NuwaError as e:
            problem = str(e)
        if not self.have_lists():
            raise NuwaError(f"no network and no cached package lists in "
                            f"{self.root / 'lists'}:\n  {problem}")
        if problem:
            # apt keeps the lists it did get (and older ones): a single broken
            # index, e.g. during a mirror sync, should not stop the build.
            print(f"nuwa: warning: {problem}\nnuwa: going on with the cached lists",
                  file=sys.stderr)

    def resolve(self, names: list[str]) -> list[Package]:
        """`names` and everything they depend on (no recommends), sorted by name."""
        rows = self._memo("resolve", names,
                          lambda: [dataclasses.astuple(p) for p in self._resolve(names)])
        return [Package(*r) for r in rows]

    def _resolve(self, names: list[str]) -> list[Package]:
        out = self._run("apt-get", "install", "-s", "-q", *names,
                        what=f"resolving {' '.join(names)}")
        pkgs: dict[str, tuple[str, str]] = {}
        for m in re.finditer(r"^Inst (\S+) \((\S+) .*?\[(\S+)\]\)", out, re.M):
            name = m.group(1).split(":")[0]
            pkgs[name] = (m.group(2), m.group(3))
        return self.describe([f"{n}={v}" for n, (v, _a) in sorted(pkgs.items())])

    def describe(self, specs: list[str]) -> list[Package]:
        """Archive records (size, sha256) for name=version or plain names."""
        if not specs:
            return []
        out = self._run("apt-cache", "show", "--no-all-versions", *specs,
                        what="reading package records")
        result: dict[str, Package] = {}
        for stanza in out.split("\n\n"):
            f = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
            if "Package" not in f:
                continue
            if f["Package"] in result:
                continue
            result[f["Package"]] = Package(
                f["Package"], f["Version"], f["Architecture"], int(f.get("Size", 0)),
                f.get("SHA256", ""), f.get("Filename", ""))
        return [result[k] for k in sorted(result)]

    def depends(self, name: str) -> list[str]:
        """Direct Depends of `name` (used to find the versioned kernel package)."""
        return self._memo("depends", [name], lambda: self._depends(name))

    def describe_cached(self, specs: list[str]) -> list[Package]:
        rows = self._memo("describe", specs,
                          lambda: [dataclasses.astuple(p) for p in self.describe(specs)])
        return [Package(*r) for r in rows]

    def _depends(self, name: str) -> list[str]:
        out = self._run("apt-cache", "depends", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                        name, what=f"reading dependencies of {name}")
        return re.findall(r"^\s+Depends: (\S+)", out, re.M)

    def path(self, pkg: Package) -> Path:
        return self.archives / pkg.deb_name

    def verify(self, pkg: Package) -> bool:
        """True if the cached file matches the archive's size and sha256."""
        p = self.path(pkg)
        try:
            if p.stat().st_size != pkg.size:
                return False
        except FileNotFoundError:
            return False
        h = hashlib.sha256()
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == pkg.sha256

    def fetch(self, pkgs: list[Package]) -> list[Path]:
        """Make every package present and intact in the cache; return the paths."""
        bad = [p for p in pkgs if not self.verify(p)]
        if bad and self.offline:
            lines = []
            for p in bad:
                state = "truncated or corrupt" if self.path(p).exists() else "missing"
                lines.append(f"  {p.name} {p.version} ({state}: {self.path(p)})")
            raise NuwaError("--offline: packages not usable from the cache:\n"
                            + "\n".join(lines))
        if bad:
            for p in bad:
                self.path(p).unlink(missing_ok=True)
            # `download` fetches exactly these files, not their dependencies.
            self._run("apt-get", "download", "-q",
                      *[f"{p.name}={p.version}" for p in bad],
                      what="downloading " + " ".join(p.name for p in bad),
                      cwd=self.archives)
            still = [p for p in bad if not self.verify(p)]
            if still:
                raise NuwaError("downloaded packages failed their checksum: "
                                + ", ".join(p.name for p in still))
        return [self.path(p) for p in pkgs]
