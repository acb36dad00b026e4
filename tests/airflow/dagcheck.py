"""Run inside a fresh interpreter (Airflow reads its configuration once, at first import):
load Tandem's DAG folder and report what a user would see, as JSON on stdout.

    python -m tests.airflow.dagcheck bag      # DagBag: import errors, DAGs, params, schedules
    python -m tests.airflow.dagcheck io       # which files/sockets importing the DAG file touches
    python -m tests.airflow.dagcheck test DAG_ID [PARAMS_JSON]   # dag.test(): task states
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"


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


def run_test(dag_id: str, params: dict[str, Any]) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.resetdb()
    dag = DagBag(dag_folder=str(DAGS)).dags[dag_id]
    run = dag.test(run_conf=params or None)
    states = {ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
              for ti in run.get_task_instances()}  # fmt: skip
    return {"state": str(run.state), "tasks": states}


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "bag":
        result = bag()
    elif what == "io":
        result = io_during_import()
    else:
        result = run_test(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})
    print("RESULT " + json.dumps(result, default=str))
