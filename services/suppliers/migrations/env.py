from flexsupply.kit.migrations import run_env
from flexsupply.suppliers.models import SuppliersTable

run_env(SuppliersTable.metadata)
