from flexsupply.fulfilment.models import FulfilmentTable
from flexsupply.kit.migrations import run_env

run_env(FulfilmentTable.metadata)
