"""Tandem's flows as Airflow DAGs: one per flow, generated from the flow definitions.

Thin on purpose: see ``tandem.dag_factory`` for schedules (``TANDEM_SCHEDULE_<FLOW>``), the
parameters of on-demand runs, retries and credentials.
"""

from __future__ import annotations

from tandem.dag_factory import build_all

globals().update(build_all())
