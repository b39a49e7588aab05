"""Providers: the unit of work."""

from flexsupply.kit.service import transaction_provider

SERVICE = "fulfilment"
provide_transaction = transaction_provider(SERVICE)
