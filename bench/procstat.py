"""CPU time of processes, read from /proc (Linux): what the benchmarks charge to the service,
its pool workers, the test site and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcCpu:
    pid: int
    ppid: int
    name: str
    cpu_s: float  # its own user + system time
    reaped_children_s: float  # of its children that have ended (killed pool workers, say)


def processes() -> Iterator[ProcCpu]:
    """Every process this user may read, with its CPU seconds so far (proc(5), /proc/PID/stat)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, rest = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:  # ended meanwhile
            continue
        fields = rest.split()
        yield ProcCpu(pid=int(entry.name), ppid=int(fields[1]), name=head.partition("(")[2],
                      cpu_s=(int(fields[11]) + int(fields[12])) / TICK,
                      reaped_children_s=(int(fields[13]) + int(fields[14])) / TICK)


def postgres_cpu_s() -> float:
    """CPU seconds of all PostgreSQL server processes so far."""
    return sum(p.cpu_s for p in processes() if p.name == "postgres")
