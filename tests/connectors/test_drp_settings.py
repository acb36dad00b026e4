"""DRP settings: one distributor per connection, its extras split between SFTP and DRP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canonical.errors import PermanentError
from connectors.drp import DrpSettings
from connectors.drp.csv_dialect import CsvOptions

SECRET = "s3cret-Pw!"


def test_distributors_from_airflow_connections(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    extra = {
        "known_hosts": str(tmp_path / "known_hosts"), "settle_seconds": "0.5",
        "distributor": "kaffeehandel-nord", "base_dir": "drp/kaffeehandel-nord",
        "their_id": "KHNORD", "csv_encoding": "cp1252", "csv_delimiter": "tab",
        "csv_decimal_sep": ",", "csv_columns": json.dumps({"Lagerort": "location"}),
        "order_patterns": "850*, PO_*", "processed_dir": "processed",
    }  # fmt: skip
    conn = {"conn_type": "sftp", "host": "sftp.khn.example", "port": 2222, "login": "tandem",
            "password": SECRET, "schema": "/srv", "extra": extra}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_DRP_KHN", json.dumps(conn))
    uri = "sftp://tan:pw%40x@sftp.pbs.example/?known_hosts=/etc/kh&distributor=pacific-brew"
    monkeypatch.setenv("AIRFLOW_CONN_DRP_PBS", uri + "&their_id=PACBREW&csv_decimal_sep=.")
    settings = DrpSettings.from_connections(["drp_khn", "drp_pbs"], control_db_url="sqlite://")
    khn, pbs = settings.distributors
    assert (khn.key, khn.their_id, khn.base_dir) == (
        "kaffeehandel-nord",
        "KHNORD",
        "drp/kaffeehandel-nord",
    )
    assert khn.csv_options == CsvOptions("cp1252", "\t", ",", None)
    assert khn.csv_columns == {"Lagerort": "location"}
    assert khn.order_patterns == ("850*", "PO_*")
    assert khn.folder("outbound") == "drp/kaffeehandel-nord/outbound"
    assert khn.folder("processed") == "drp/kaffeehandel-nord/processed"
    sftp = khn.sftp
    assert (sftp.host, sftp.port, sftp.username, sftp.root) == (
        "sftp.khn.example",
        2222,
        "tandem",
        "/srv",
    )
    assert sftp.password is not None and sftp.password.get_secret_value() == SECRET
    assert sftp.settle_seconds == 0.5
    assert SECRET not in repr(settings)
    assert (pbs.key, pbs.csv_decimal_sep, pbs.sftp.username) == ("pacific-brew", ".", "tan")
    assert pbs.sftp.password is not None and pbs.sftp.password.get_secret_value() == "pw@x"
    assert pbs.them.id == "PACBREW" and khn.us.id == "TANDEM"


def test_bad_settings_name_the_field_and_never_the_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    extra = {"known_hosts": str(tmp_path), "csv_delimiter": ":", "their_id": "X"}
    conn = {"conn_type": "sftp", "host": "h", "login": "u", "password": SECRET, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_DRP_BAD", json.dumps(conn))
    with pytest.raises(PermanentError) as caught:
        DrpSettings.from_connections(["drp_bad"])
    assert "csv_delimiter" in str(caught.value) and SECRET not in str(caught.value)
    conn["extra"] = {"no_host_key_check": "true"}
    monkeypatch.setenv("AIRFLOW_CONN_DRP_BAD", json.dumps(conn))
    with pytest.raises(PermanentError, match="no_host_key_check is not allowed"):
        DrpSettings.from_connections(["drp_bad"])
    with pytest.raises(PermanentError, match="AIRFLOW_CONN_DRP_NONE"):
        DrpSettings.from_connections(["drp_none"])


def test_a_distributor_without_x12_id_cannot_be_sent_to(tmp_path: Path) -> None:
    from connectors.drp import DistributorSettings
    from connectors.transports.sftp import SftpSettings

    sftp = SftpSettings(host="h", username="u", password="p", known_hosts=tmp_path)
    with pytest.raises(PermanentError, match="their_id"):
        _ = DistributorSettings(key="d", sftp=sftp).them
    with pytest.raises(ValueError, match="unique"):
        DrpSettings(distributors=(DistributorSettings(key="d", sftp=sftp),) * 2)
