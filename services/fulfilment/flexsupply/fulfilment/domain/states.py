"""The lives of production orders, batches, shipments and after-sales cases: every legal move, in one place.

A move not in a table is refused (InvalidMove, a 409) and changes nothing; the service records every move it makes
(when, who, from, to). Production: a supplier accepts, starts, reports batches as they are ready, and the order is
shipped once all of its units are in shipments handed to a carrier. It may fail, whole or for its unshipped
remainder, at any point before that; then backups take over the units it will not make.
"""

from enum import StrEnum
from typing import Final

from flexsupply.contracts import moves


class InvalidMove(Exception):
    """The subject's status does not allow this step."""


class ProductionStatus(StrEnum):
    ISSUED = "issued"  # the supplier has been told, not answered yet
    ACCEPTED = "accepted"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"  # every unit it is to make is in a shipment handed to a carrier
    FAILED = "failed"  # it will not make its remaining units: backups took them over


class ProductionStep(StrEnum):
    ACCEPT = "accept"
    START = "start"
    FINISH = "finish"  # by the service, when its last unit ships
    FAIL = "fail"


PRODUCTION_MOVES: Final[dict[tuple[ProductionStatus, ProductionStep], ProductionStatus]] = {
    (ProductionStatus.ISSUED, ProductionStep.ACCEPT): ProductionStatus.ACCEPTED,
    (ProductionStatus.ACCEPTED, ProductionStep.START): ProductionStatus.IN_PRODUCTION,
    (ProductionStatus.IN_PRODUCTION, ProductionStep.FINISH): ProductionStatus.SHIPPED,
    (ProductionStatus.ISSUED, ProductionStep.FAIL): ProductionStatus.FAILED,
    (ProductionStatus.ACCEPTED, ProductionStep.FAIL): ProductionStatus.FAILED,
    (ProductionStatus.IN_PRODUCTION, ProductionStep.FAIL): ProductionStatus.FAILED,
}
# Steps a supplier may take on its own production orders (the rest are the service's or staff's).
SUPPLIER_STEPS: Final = frozenset({ProductionStep.ACCEPT, ProductionStep.START, ProductionStep.FAIL})
# Batches are reported while production runs.
MAKING: Final = frozenset({ProductionStatus.IN_PRODUCTION})
OPEN_PRODUCTION: Final = frozenset({ProductionStatus.ISSUED, ProductionStatus.ACCEPTED, ProductionStatus.IN_PRODUCTION})


class BatchStatus(StrEnum):
    READY = "ready"  # passed its check; its shipments are planned
    REJECTED = "rejected"  # failed its quality check: its units are to be made again
    SHIPPED = "shipped"  # every shipment of it is with a carrier


class BatchStep(StrEnum):
    SHIP = "ship"  # by the service, when its last shipment ships


BATCH_MOVES: Final[dict[tuple[BatchStatus, BatchStep], BatchStatus]] = {
    (BatchStatus.READY, BatchStep.SHIP): BatchStatus.SHIPPED,
}


class ShipmentStatus(StrEnum):
    PLANNED = "planned"  # which order gets which units of a batch: on the manifest, not yet with a carrier
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # lost, refused, damaged in transit: staff act on it
    CANCELLED = "cancelled"  # its production failed before it shipped: its units went to a backup


class ShipmentStep(StrEnum):
    SHIP = "ship"  # takes a carrier and a tracking number
    DELIVER = "deliver"
    REPORT_EXCEPTION = "report_exception"
    CANCEL = "cancel"  # by the service, when its production fails


SHIPMENT_MOVES: Final[dict[tuple[ShipmentStatus, ShipmentStep], ShipmentStatus]] = {
    (ShipmentStatus.PLANNED, ShipmentStep.SHIP): ShipmentStatus.SHIPPED,
    (ShipmentStatus.SHIPPED, ShipmentStep.DELIVER): ShipmentStatus.DELIVERED,
    (ShipmentStatus.SHIPPED, ShipmentStep.REPORT_EXCEPTION): ShipmentStatus.EXCEPTION,
    (ShipmentStatus.PLANNED, ShipmentStep.CANCEL): ShipmentStatus.CANCELLED,
    # A parcel reported lost that turns up after all.
    (ShipmentStatus.EXCEPTION, ShipmentStep.DELIVER): ShipmentStatus.DELIVERED,
}


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CaseKind(StrEnum):
    DAMAGED = "damaged"
    WRONG = "wrong"
    MISSING = "missing"
    LATE = "late"


class Resolution(StrEnum):
    REFUND = "refund"  # money back (minor units), recorded for the payments team
    RESEND = "resend"  # a new shipment from the same supplier
    REJECT = "reject"  # nothing owed: the case was not upheld


# Units handed to a carrier: they stay with the supplier that shipped them whatever happens next.
HANDED_OVER: Final = frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED, ShipmentStatus.EXCEPTION})
# Steps a supplier takes on its own shipments (staff may take them too).
SUPPLIER_SHIPMENT_STEPS: Final = frozenset({ShipmentStep.SHIP, ShipmentStep.DELIVER, ShipmentStep.REPORT_EXCEPTION})

CASE_MOVES: Final[dict[tuple[CaseStatus, Resolution], CaseStatus]] = {
    (CaseStatus.OPEN, resolution): CaseStatus.RESOLVED for resolution in Resolution
}


def next_production_status(status: ProductionStatus, step: ProductionStep) -> ProductionStatus:
    return moves.next_status(PRODUCTION_MOVES, status, step, subject="production order", refuse=InvalidMove)


def next_batch_status(status: BatchStatus, step: BatchStep) -> BatchStatus:
    return moves.next_status(BATCH_MOVES, status, step, subject="batch", refuse=InvalidMove)


def next_shipment_status(status: ShipmentStatus, step: ShipmentStep) -> ShipmentStatus:
    return moves.next_status(SHIPMENT_MOVES, status, step, subject="shipment", refuse=InvalidMove)


def next_case_status(status: CaseStatus, resolution: Resolution) -> CaseStatus:
    return moves.next_status(CASE_MOVES, status, resolution, subject="case", refuse=InvalidMove)
