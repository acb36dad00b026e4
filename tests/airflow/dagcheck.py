"""Run inside a fresh interpreter (Airflow reads its configuration once, at first import):
load Tandem's DAG folder and report what a user would see, as JSON on stdout.

    python -m tests.airflow.dagcheck bag      # DagBag: import errors, DAGs, params, schedules
    python -m tests.airflow.dagcheck io       # which files/sockets importing the DAG file touches
    python -m tests.airflow.dagcheck test DAG_ID [PARAMS_JSON]   # dag.test(): task states
    python -m tests.airflow.dagcheck session DAG_ID   # dag.test() per line of params on stdin

The tests call it through ``dagcheck(...)`` (one answer, one process) or ``DagSession`` (one
process for several runs of a DAG: Airflow starts once, ~5 s, and each further ``dag.test()``
takes a fraction of a second).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
PREFIX = "RESULT "


def dagcheck(*args: str, env: dict[str, str], timeout: float = 240) -> dict[str, Any]:
    """One check in a fresh interpreter; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.airflow.dagcheck", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(PREFIX))
    return result


class DagSession:
    """One Airflow process running ``dag.test()`` of one DAG whenever ``run`` asks."""

    def __init__(self, dag_id: str, *, env: dict[str, str], log: Path) -> None:
        self._log_path = log
        self._log = log.open("a")  # appending: Airflow's stderr and its stdout, below
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.airflow.dagcheck", "session", dag_id],
            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log,
        )  # fmt: skip
        self._results: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith(PREFIX):
                self._results.put(line.removeprefix(PREFIX))
            else:
                self._log.write(line)
        self._results.put(None)  # the process ended

    def run(self, params: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
        """A DAG run with these params: its state and its task instances' states."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(params or {}) + "\n")
        self._process.stdin.flush()
        try:
            answer = self._results.get(timeout=timeout)
        except queue.Empty:
            answer = None
        if answer is None:
            self._log.flush()
            tail = self._log_path.read_text(errors="replace")[-3000:]
            state = "timed out" if self._process.poll() is None else "exited"
            raise AssertionError(f"the Airflow process {state}; its log ends:\n{tail}")
        result: dict[str, Any] = json.loads(answer)
        return result

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)
        self._log.close()


def bag() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    found = DagBag(dag_folder=str(DAGS))
    dags = {}
    for dag_id, dag in found.dags.items():
        dags[dag_id] = {
            "params": {k: v.schema for k, v in dag.params.items()},
            "defaults": {k: dag.params[k] for k in dag.params},
            "schedule": getattr(dag.timetable, "expression", None) or type(dag.timetable).__name__,
            "doc_md": dag.doc_md,
            "tags": sorted(dag.tags),
            "tasks": sorted(t.task_id for t in dag.tasks),
            "max_active_runs": dag.max_active_runs,
        }
    return {"import_errors": {k: str(v) for k, v in found.import_errors.items()}, "dags": dags}


def io_during_import() -> dict[str, Any]:
    touched: list[str] = []
    # the interpreter, installed packages, Airflow's own home (config, plugins) and the
    # editable install's import hook
    libraries = (sys.prefix, sys.base_prefix, os.environ["AIRFLOW_HOME"], "/dev/null",
                 "__editable__")  # fmt: skip

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open" and args and isinstance(args[0], str | bytes):
            path = os.fsdecode(args[0])
            if path.startswith(libraries) or path.startswith("/proc/"):
                return
            in_project = path.startswith(str(ROOT))
            code = path.endswith((".py", ".pyc")) or ".egg-info" in path
            if not (in_project and code):
                touched.append(f"open {path}")
        elif event in ("socket.connect", "socket.getaddrinfo"):
            touched.append(f"{event} {args[1] if len(args) > 1 else args}")

    import airflow.sdk  # noqa: F401 - Airflow's own start-up is not the DAG file's doing

    sys.addaudithook(hook)
    import importlib.util

    spec = importlib.util.spec_from_file_location("tandem_flows_dagfile", DAGS / "tandem_flows.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dags = sorted(k for k in vars(module) if k.startswith("tandem_"))
    found = list(touched)
    (ROOT / "pyproject.toml").read_bytes()  # the hook must see a read like this one
    return {"touched": found, "dags": dags, "hook_works": len(touched) > len(found)}


def load_dag(dag_id: str) -> Any:
    """The DAG from the DAG folder, in a fresh Airflow database."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.resetdb()
    return DagBag(dag_folder=str(DAGS)).dags[dag_id]


def run_once(dag: Any, params: dict[str, Any]) -> dict[str, Any]:
    run = dag.test(run_conf=params or None)
    states = {ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
              for ti in run.get_task_instances()}  # fmt: skip
    return {"state": str(run.state), "tasks": states}


def session(dag_id: str) -> None:
    """A ``dag.test()`` for every line of params JSON on stdin, each answered on stdout.

    Each run gets every param, the DAG's defaults overridden by the line's (as the trigger
    form sends them): in one process ``dag.test()`` keeps an earlier run's conf in the DAG's
    params, so a run given fewer params would inherit the previous run's values."""
    dag = load_dag(dag_id)
    defaults = json.loads(json.dumps({k: dag.params[k] for k in dag.params}))
    for line in sys.stdin:
        params = defaults | json.loads(line)
        print(PREFIX + json.dumps(run_once(dag, params), default=str), flush=True)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "session":
        session(sys.argv[2])
        sys.exit(0)
    if what == "bag":
        result = bag()
    elif what == "io":
        result = io_during_import()
    else:
        params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        result = run_once(load_dag(sys.argv[2]), params)
    print(PREFIX + json.dumps(result, default=str))
