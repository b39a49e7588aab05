"""What a package's reserves still cover (1+N) once backups have taken units over."""

from uuid import UUID

from flexsupply.matching.domain.reserve import Use, cover, making_now

MAKER, OTHER, BACKUP_A, BACKUP_B = (UUID(int=n) for n in range(1, 5))


def test_untouched_reserves_cover_the_largest_supplier():
    found = cover({BACKUP_A: 100}, {MAKER: 100, OTHER: 60}, [], backups=1)
    assert (found.held_units, found.used_units, found.left_units, found.short_units) == (100, 0, 100, 0)


def test_a_take_over_uses_the_reserve_and_the_backup_now_makes_units_it_cannot_back_up_itself():
    uses = [Use(BACKUP_A, MAKER, 40)]
    assert making_now({MAKER: 100, OTHER: 60}, uses) == {MAKER: 60, OTHER: 60, BACKUP_A: 40}
    found = cover({BACKUP_A: 100}, {MAKER: 100, OTHER: 60}, uses, backups=1)
    assert (found.used_units, found.left_units) == (40, 60)
    # 60 left covers the maker's 60 and the other's 60, but nobody backs up the backup's own 40.
    assert (found.short_units, found.at_risk_supplier_id) == (40, BACKUP_A)


def test_with_two_backups_n_minus_one_of_them_may_fall_through_as_well():
    held = {BACKUP_A: 60, BACKUP_B: 60}
    assert cover(held, {MAKER: 60}, [], backups=2).short_units == 0
    assert cover(held, {MAKER: 60}, [Use(BACKUP_A, MAKER, 10)], backups=2).short_units == 10


def test_without_backups_asked_nothing_is_short():
    assert cover({}, {MAKER: 100}, [], backups=0).short_units == 0
