from flexsupply.kit.migrations import run_env
from flexsupply.fulfilment.models import FulfilmentTable

run_env(FulfilmentTable.metadata)
