"""The calls API's transcript says where each line is in the call's recording, as the call's detail does."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from communications.tests.test_recordings import a_recorded_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(staff_user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return api


def test_each_transcript_line_gives_its_place_in_the_recording_as_the_detail_does(staff_api, tmp_path):
    call, _, _ = a_recorded_call(tmp_path)

    transcript = staff_api.get(f"/api/admin/calls/{call.pk}/transcript")
    detail = staff_api.get(f"/api/admin/calls/{call.pk}")

    assert transcript.status_code == 200 and detail.status_code == 200
    places = [(line["content"], line["recording_start_ms"], line["recording_end_ms"])
              for line in transcript.json()["messages"]]
    assert places == [("Lumière Med Spa, this is Ava.", 0, 2400), ("I'd like a HydraFacial on Friday.", 3100, 5600)]
    assert places == [(m["content"], m["recording_start_ms"], m["recording_end_ms"]) for m in detail.json()["messages"]]


def test_a_line_not_in_any_recording_says_so_with_nulls(staff_api, tmp_path):
    from communications.services import add_message

    call, _, _ = a_recorded_call(tmp_path)
    add_message(conversation_id=call.pk, author="assistant", content="Typed after the call.", position=2)

    lines = staff_api.get(f"/api/admin/calls/{call.pk}/transcript").json()["messages"]

    assert (lines[-1]["recording_start_ms"], lines[-1]["recording_end_ms"]) == (None, None)


def test_the_schema_describes_the_transcripts_offsets_as_the_details(settings):
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    line, message = components["TranscriptLine"]["properties"], components["Message"]["properties"]
    for name in ("recording_start_ms", "recording_end_ms"):
        assert line[name] == message[name]
        assert line[name]["nullable"] is True and line[name]["description"]
