"""The one way a service builds a notice for a supplier's webhook: its body, and an id that makes a repeat one
webhook."""

from uuid import UUID

from pydantic import BaseModel

from flexsupply.contracts.events import SupplierNotice

SUPPLIER, AWARD, OTHER = UUID(int=1), UUID(int=2), UUID(int=3)


class Body(BaseModel):
    id: UUID
    units: int


def test_a_notice_carries_its_body_as_json_and_the_same_id_for_the_same_subject_and_type_only():
    notice = SupplierNotice.about(AWARD, SUPPLIER, "award.offered", Body(id=AWARD, units=5))
    assert (notice.supplier_id, notice.event_type) == (SUPPLIER, "award.offered")
    assert notice.data == {"id": str(AWARD), "units": 5}
    again = SupplierNotice.about(AWARD, SUPPLIER, "award.offered", Body(id=AWARD, units=6))
    assert again.notice_id == notice.notice_id
    withdrawn = SupplierNotice.about(AWARD, SUPPLIER, "award.withdrawn", Body(id=AWARD, units=5))
    other = SupplierNotice.about(OTHER, SUPPLIER, "award.offered", Body(id=OTHER, units=5))
    assert notice.notice_id not in {withdrawn.notice_id, other.notice_id}
