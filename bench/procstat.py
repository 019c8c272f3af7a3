"""CPU and memory of processes, read from /proc (Linux), to say what limits a figure."""

import os
from collections.abc import Callable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def process_ticks(pid: int) -> int:
    """user + system ticks of one process (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def rss_kb(pid: int) -> dict[str, int]:
    """Resident set now (VmRSS) and its peak (VmHWM), in kB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


class CpuWindow:
    """CPU used by named groups of processes (and the whole machine) over a window.

    A group is a function returning its pids, asked again at the end: a process that
    appeared meanwhile (a new database backend) counts whole, one that ended is lost.
    """

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self.groups = groups
        self._start = {name: self._ticks(pids()) for name, pids in groups.items()}
        self._machine = machine_ticks()

    @staticmethod
    def _ticks(pids: list[int]) -> dict[int, int]:
        return {pid: process_ticks(pid) for pid in pids}

    def stop(self, seconds: float) -> dict[str, float]:
        """Cores used on average by each group, the machine, and everything else."""
        cores = {}
        for name, pids in self.groups.items():
            start = self._start[name]
            now = self._ticks(pids())
            ticks = sum(max(value - start.get(pid, 0), 0) for pid, value in now.items() if value)
            cores[name] = ticks / TICKS / seconds
        busy = machine_ticks()[0] - self._machine[0]
        cores["machine"] = busy / TICKS / seconds
        cores["other"] = max(cores["machine"] - sum(cores[name] for name in self.groups), 0.0)
        return {name: round(value, 2) for name, value in cores.items()}
