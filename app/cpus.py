"""How many CPUs this process may really use: what `NEWS_INGEST_EXTRACT_PROCESSES=-1` starts.

`os.cpu_count()` counts the host's CPUs. A container limited to 2 CPUs on a 64-core host would
start 64 processes that share 2 CPUs' worth of time (and their memory). Two limits apply:
- the affinity mask (`taskset`, `docker run --cpuset-cpus`): `os.sched_getaffinity`;
- the CFS quota (`docker run --cpus`, Kubernetes CPU limits): cgroup v2 `cpu.max`
  ("200000 100000" = 2 CPUs, "max 100000" = none), or cgroup v1 `cpu.cfs_quota_us` /
  `cpu.cfs_period_us` (-1 = none). A limit set on any ancestor cgroup applies as well.
A fractional quota is rounded up (1.5 CPUs: 2 processes), at least 1. Unreadable or odd files
count as no limit: this must never stop the service from starting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")


def usable_cpus(cgroup_root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root, self_cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def cgroup_cpu_quota(cgroup_root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> float | None:
    """The tightest CPU quota on this process's cgroup and its ancestors, in CPUs; None: no limit."""
    quotas = [q for q in (_quota_v2(d) if v2 else _quota_v1(d) for v2, d in _cgroup_dirs(cgroup_root, self_cgroup))
              if q is not None]
    return min(quotas) if quotas else None


def _cgroup_dirs(root: Path, self_cgroup: Path) -> Iterator[tuple[bool, Path]]:
    """(is cgroup v2, folder) for this process's cgroup and each ancestor up to the mount."""
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            yield from ((True, d) for d in _ancestors(root, path))
        elif "cpu" in controllers.split(","):
            # v1 mounts the cpu controller as cpu,cpuacct (with cpu and cpuacct links) or alone.
            for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
                if (root / name).is_dir():
                    yield from ((False, d) for d in _ancestors(root / name, path))
                    break


def _ancestors(mount: Path, path: str) -> Iterator[Path]:
    # Inside a container with its own cgroup namespace the path is "/" and the mount is the
    # container's cgroup; on a host (or without a namespace) the path leads below the mount.
    parts = [p for p in path.split("/") if p and p != ".."]
    for n in range(len(parts), -1, -1):
        folder = mount.joinpath(*parts[:n])
        if folder.is_dir():
            yield folder


def _quota_v2(folder: Path) -> float | None:
    try:
        quota, _, period = (folder / "cpu.max").read_text().strip().partition(" ")
        if quota == "max":
            return None
        return int(quota) / int(period or 100000)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _quota_v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
