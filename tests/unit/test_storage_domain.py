"""Storage geometry rules with no database: paths, grids, slot names, positions, free runs."""

from __future__ import annotations

import pytest

from samplectl.domain.errors import UsageError, ValidationFailed
from samplectl.domain.storage import (
    Grid,
    Holder,
    check_need,
    first_run,
    is_within,
    parse_grid,
    parse_path,
    ranges,
    rebase,
    split_position,
)


def test_a_9x9_grid_names_its_slots_row_by_row() -> None:
    grid = parse_grid("9x9")
    assert (grid.rows, grid.cols, grid.size) == (9, 9, 81)
    assert [grid.slot_name(i) for i in (0, 8, 9, 80)] == ["A1", "A9", "B1", "I9"]
    assert grid.slot_index("a5") == 4 and grid.slot_index("I9") == 80


@pytest.mark.parametrize("slot", ["J1", "A10", "A0", "Z99"])
def test_a_slot_outside_the_grid_is_invalid(slot: str) -> None:
    with pytest.raises(ValidationFailed, match="outside the 9x9 grid"):
        Grid(9, 9).slot_index(slot)


@pytest.mark.parametrize("text", ["9", "0x9", "27x1", "9x100", "nine by nine", ""])
def test_a_grid_must_be_rows_by_columns_within_limits(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_grid(text)


def test_8x12_is_a1_to_h12() -> None:
    grid = parse_grid(" 8X12 ")
    assert grid.slot_name(grid.size - 1) == "H12"


@pytest.mark.parametrize("text", ["FRZ 1", "FRZ-1//R1", "FRZ-1/R:1", "-R", "FRZ-1/" + "x" * 40, ""])
def test_container_names_are_plain_words(text: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_path(text)


def test_paths_are_trimmed_of_surrounding_slashes_and_spaces() -> None:
    assert parse_path(" /FRZ-1/R2/B3/ ") == "FRZ-1/R2/B3"


def test_within_and_rebase_respect_name_boundaries() -> None:
    assert is_within("FRZ-1/R1", "FRZ-1") and is_within("FRZ-1", "FRZ-1")
    assert not is_within("FRZ-10/R1", "FRZ-1")
    assert rebase("FRZ-1/R3/B2:A1", "FRZ-1/R3/B2", "FRZ-2/R1/B2") == "FRZ-2/R1/B2:A1"


def test_a_position_is_box_colon_slot_and_a_bare_path_has_no_slot() -> None:
    assert split_position("FRZ-1/R2/B3:a5") == ("FRZ-1/R2/B3", "A5")
    assert split_position("FRZ-1/BAG-1") == ("FRZ-1/BAG-1", None)
    with pytest.raises(ValidationFailed):
        split_position("FRZ-1/R2/B3:")


def test_a_box_places_at_box_slot_and_its_location_is_the_path_with_the_slot() -> None:
    box = Holder.of({"path": "F/R/B", "kind": "box", "rows": 9, "cols": 9})
    assert box.position(4) == "F/R/B:A5" and box.location(4) == "F/R/B/A5"


def test_a_bag_has_numbered_places_up_to_its_capacity_and_its_location_is_the_bag() -> None:
    bag = Holder.of({"path": "F/BAG", "kind": "bag", "capacity": 3})
    assert bag.slot_index("3") == 2 and bag.position(2) == "F/BAG:3" and bag.location(2) == "F/BAG"
    with pytest.raises(ValidationFailed, match="1...3"):
        bag.slot_index("4")


def test_a_rack_holds_no_samples() -> None:
    with pytest.raises(ValidationFailed, match="samples go in a box or a bag"):
        Holder.of({"path": "F/R", "kind": "rack"})


def test_free_places_skip_the_occupied_ones_in_fill_order() -> None:
    box = Holder.of({"path": "B", "kind": "box", "rows": 2, "cols": 3})
    assert box.free_indexes(["A2", "B1"]) == [0, 2, 4, 5]


def test_first_run_finds_consecutive_free_places_across_row_ends() -> None:
    assert first_run([0, 2, 3, 4, 5, 9], 3) == [2, 3, 4]
    assert first_run([0, 2, 4], 2) is None
    assert first_run([7, 8], 2) == [7, 8]
    assert first_run([1, 2], 3) is None


def test_ranges_compress_runs_in_fill_order() -> None:
    box = Holder.of({"path": "B", "kind": "box", "rows": 9, "cols": 9})
    assert ranges(box, [0, 1, 2, 5, 8, 9]) == ["A1-A3", "A6", "A9-B1"]


def test_together_needs_need() -> None:
    with pytest.raises(UsageError):
        check_need(None, True)
    with pytest.raises(ValidationFailed):
        check_need(0, False)
