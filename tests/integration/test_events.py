"""events on real containers: --stats in runc's format with values read
from the host's cgroups, the stream at --interval, an "oom" event when a
process of the container is OOM-killed, and runc's refusal for a stopped
container."""
import json
import subprocess
import time

from test_isolation import created

LIMIT = 16 << 20


def with_memory_limit(config):
    config["linux"]["resources"] = dict(config["linux"].get("resources", {}),
                                        memory={"limit": LIMIT, "swap": LIMIT})


def test_stats_once(runtime):
    cid, _pid = created(runtime, mutate=with_memory_limit)
    runtime("start", cid, check=True)
    lines = runtime("events", "--stats", cid, check=True).stdout.splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "stats" and event["id"] == cid
    data = event["data"]
    assert data["cpu"]["usage"]["total"] > 0
    assert data["memory"]["usage"]["limit"] == LIMIT and 0 < data["memory"]["usage"]["usage"] <= LIMIT
    assert data["pids"]["current"] == 1


def test_a_stopped_container_has_no_events(runtime):
    cid, _pid = created(runtime, ["true"])
    runtime("start", cid, check=True)
    deadline = time.monotonic() + 10
    while runtime.state(cid)["status"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for args in (["--stats"], ["--interval", "100ms"]):
        proc = runtime("events", *args, cid, timeout=10)
        assert proc.returncode == 1 and proc.stdout == "", args
        assert f"container with id {cid} is not running" in proc.stderr, args


def stream(runtime, cid, seconds, interval="100ms"):
    """The events printed within seconds; the stream is then ended by its pid."""
    proc = subprocess.Popen(runtime.cmd + ["--root", runtime.root, "events", "--interval", interval, cid],
                            stdout=subprocess.PIPE, text=True)
    events = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            events.append(json.loads(line))
            if any(e["type"] == "oom" for e in events):
                break
    finally:
        proc.kill()
        proc.wait()
    return events


def test_the_stream_repeats_at_the_interval(runtime):
    cid, _pid = created(runtime)
    runtime("start", cid, check=True)
    events = stream(runtime, cid, 1.0)
    assert len(events) >= 3 and all(e["type"] == "stats" for e in events)


def test_an_oom_kill_is_an_event_and_ends_only_the_hog(runtime):
    # dd's 64 MiB buffer cannot fit in 16 MiB (with no swap to spill to).
    hog = "sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 30"
    cid, _pid = created(runtime, ["sh", "-c", hog], mutate=with_memory_limit)
    runtime("start", cid, check=True)
    events = stream(runtime, cid, 10)
    assert {"type": "oom", "id": cid} in events
    # Only dd was killed: the container goes on.
    assert runtime.state(cid)["status"] == "running"


def test_a_bad_interval_is_refused(runtime):
    cid, _pid = created(runtime)
    proc = runtime("events", "--interval", "soon", cid)
    assert proc.returncode == 1 and "--interval" in proc.stderr
