import uuid

import pytest

from ingestion.errors import InvalidMessage
from ingestion.messages import IngestMessage, structure_message


def test_a_good_message_is_structured() -> None:
    sid = str(uuid.uuid4())
    msg = structure_message(
        {"source_url": "https://example.invalid/p.xlsx", "supplier_id": sid, "file_type": "excel", "job_id": "j-1"},
        IngestMessage,
    )
    assert msg == IngestMessage(source_url="https://example.invalid/p.xlsx", supplier_id=sid, file_type="excel", job_id="j-1")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({}, "source_url"),
        ({"source_url": 5, "supplier_name": "A"}, "source_url"),
        ({"source_url": "x"}, "supplier_id or supplier_name"),
        ({"source_url": "x", "supplier_id": "not-a-uuid"}, "supplier_id"),
        ({"source_url": "x", "supplier_name": "A", "file_type": "doc"}, "file_type"),
        ({"source_url": "x", "supplier_name": "A", "job_id": "../../etc"}, "job_id"),
        ({"source_url": "x", "supplier_name": "A", "colour": "red"}, "colour"),
        ({"source_url": "", "supplier_name": "A"}, "source_url"),
    ],
)
def test_a_bad_message_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidMessage) as err:
        structure_message(kwargs, IngestMessage)
    assert field in err.value.message
    assert err.value.problem.type == "invalid_message"


def test_kwargs_must_be_an_object() -> None:
    with pytest.raises(InvalidMessage, match="JSON object"):
        structure_message(["x"], IngestMessage)
