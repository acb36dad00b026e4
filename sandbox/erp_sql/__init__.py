"""An ERP's staging tables (export ``*_out``, import ``*_in``) and the ERP's jobs that fill and
empty them, on any SQLAlchemy database URL: ``python -m sandbox.erp_sql create <url>``."""

from sandbox.erp_sql.erp import StagingErp
from sandbox.erp_sql.schema import create_staging_tables, drop_staging_tables, staging_metadata

__all__ = ["StagingErp", "create_staging_tables", "drop_staging_tables", "staging_metadata"]
