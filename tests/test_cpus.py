"""NEWS_INGEST_EXTRACT_PROCESSES=-1 counts the CPUs this process may use: its affinity mask and
the cgroup (v2 or v1) CPU quota, over fake /sys/fs/cgroup and /proc/self/cgroup trees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cpu_pool import CpuPool
from app.cpus import cgroup_cpu_quota, usable_cpus

V2 = "0::{path}\n"
V1 = "12:pids:/\n4:cpu,cpuacct:{path}\n3:memory:/\n0::/\n"


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    (root / "sys").mkdir(exist_ok=True)
    return root


@pytest.mark.parametrize(("self_cgroup", "files", "affinity", "expected"), [
    # cgroup v2 in a container (own cgroup namespace): `docker run --cpus 2` on a 64-CPU host
    (V2.format(path="/"), {"sys/cpu.max": "200000 100000\n"}, 64, 2),
    (V2.format(path="/"), {"sys/cpu.max": "max 100000\n"}, 64, 64),
    (V2.format(path="/"), {"sys/cpu.max": "150000 100000\n"}, 64, 2),  # 1.5 CPUs: rounded up
    (V2.format(path="/"), {"sys/cpu.max": "20000 100000\n"}, 64, 1),  # a fifth of a CPU: still one
    # v2 seen from the host: the limit sits on an ancestor (a Kubernetes pod), not the container
    (V2.format(path="/kubepods/pod1/ctr"), {"sys/kubepods/pod1/cpu.max": "300000 100000",
                                            "sys/kubepods/pod1/ctr/cpu.max": "max 100000"}, 64, 3),
    (V2.format(path="/a/b"), {"sys/a/cpu.max": "400000 100000", "sys/a/b/cpu.max": "100000 100000"}, 64, 1),
    # affinity narrower than the quota (`--cpuset-cpus 0,1 --cpus 4`)
    (V2.format(path="/"), {"sys/cpu.max": "400000 100000"}, 2, 2),
    # cgroup v1: cpu,cpuacct controller, the process's path below the mount
    (V1.format(path="/docker/abc"), {"sys/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "300000\n",
                                     "sys/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"}, 64, 3),
    (V1.format(path="/docker/abc"), {"sys/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n",
                                     "sys/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"}, 64, 64),
    # v1 inside a container: the host's path is shown, the container's cgroup is the mount itself
    (V1.format(path="/docker/abc"), {"sys/cpu,cpuacct/cpu.cfs_quota_us": "50000",
                                     "sys/cpu,cpuacct/cpu.cfs_period_us": "100000"}, 64, 1),
    # v1 with the cpu controller mounted on its own
    ("3:cpu:/\n2:cpuacct:/\n", {"sys/cpu/cpu.cfs_quota_us": "200000", "sys/cpu/cpu.cfs_period_us": "100000"}, 8, 2),
    # nothing readable, or nonsense: no limit, and no error
    (None, {}, 6, 6),
    (V2.format(path="/"), {"sys/cpu.max": "lots\n"}, 6, 6),
    (V2.format(path="/"), {"sys/cpu.max": "100000 0\n"}, 6, 6),
    (V1.format(path="/"), {"sys/cpu,cpuacct/cpu.cfs_quota_us": "", "sys/cpu,cpuacct/cpu.cfs_period_us": "1"}, 6, 6),
])
def test_usable_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, self_cgroup: str | None,
                     files: dict[str, str], affinity: int, expected: int) -> None:
    root = tree(tmp_path, files)
    proc = tmp_path / "proc-self-cgroup"
    if self_cgroup is not None:
        proc.write_text(self_cgroup)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    assert usable_cpus(root / "sys", proc) == expected


def test_without_sched_getaffinity_the_cpu_count_is_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    (tmp_path / "cgroup").write_text(V2.format(path="/"))
    tree(tmp_path, {"sys/cpu.max": "400000 100000"})
    assert usable_cpus(tmp_path / "sys", tmp_path / "cgroup") == 4
    assert cgroup_cpu_quota(tmp_path / "sys", tmp_path / "cgroup") == 4.0


def test_extract_processes_minus_one_uses_the_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.cpu_pool.usable_cpus", lambda: 3)
    assert CpuPool(-1).processes == 3
    assert CpuPool(0).processes == 0 and CpuPool(5).processes == 5
