from flexsupply.kit.migrations import run_env
from flexsupply.matching.models import MatchingTable

run_env(MatchingTable.metadata)
