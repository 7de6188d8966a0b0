"""Renaming, editing and deleting a campaign (crm.campaigns.manage): version checks in the
WHERE clause, names unique per channel, templates checked, members' figures recounted."""

from __future__ import annotations

import duckdb
import pytest

from crm import facts
from crm.campaigns import manage
from crm.errors import ConflictError, NotFound, ValidationFailed
from crm.models import CampaignMessageUpdate, CampaignRename

Con = duckdb.DuckDBPyConnection


def campaign(con: Con, index: int = -1) -> tuple[int, str, str, int]:
    rows = con.execute("SELECT id, name, channel, version FROM campaigns ORDER BY id").fetchall()
    found = rows[index]
    return int(found[0]), str(found[1]), str(found[2]), int(found[3])


def test_rename_bumps_the_version_and_records_who(con: Con) -> None:
    campaign_id, _, _, version = campaign(con)
    new = manage.rename_campaign(
        con, campaign_id, CampaignRename(name="Winter *Sale*", version=version), by="ana@x.com"
    )
    assert new == version + 1
    row = con.execute(
        "SELECT name, version, updated_by FROM campaigns WHERE id = $id", {"id": campaign_id}
    ).fetchone()
    assert row == ("Winter *Sale*", new, "ana@x.com")
    with pytest.raises(ConflictError):  # made on the version read before
        manage.rename_campaign(con, campaign_id, CampaignRename(name="Late", version=version))
    assert con.execute(
        "SELECT name FROM campaigns WHERE id = $id", {"id": campaign_id}
    ).fetchone() == ("Winter *Sale*",)


def test_rename_refuses_a_name_the_channel_has(con: Con) -> None:
    rows = con.execute(
        "SELECT a.id, a.version, b.name FROM campaigns a JOIN campaigns b"
        " ON a.channel = b.channel AND a.id <> b.id ORDER BY a.id LIMIT 1"
    ).fetchone()
    assert rows is not None
    campaign_id, version, taken = int(rows[0]), int(rows[1]), str(rows[2])
    with pytest.raises(ValidationFailed) as refused:
        manage.rename_campaign(
            con, campaign_id, CampaignRename(name=taken.upper(), version=version)
        )
    assert taken in refused.value.errors["name"]
    # The campaign's own name in another case is fine.
    own = con.execute("SELECT name FROM campaigns WHERE id = $id", {"id": campaign_id}).fetchone()
    assert own is not None
    manage.rename_campaign(
        con, campaign_id, CampaignRename(name=str(own[0]).lower(), version=version)
    )


def test_rename_of_a_deleted_campaign_says_so(con: Con) -> None:
    with pytest.raises(NotFound):
        manage.rename_campaign(con, 999_999, CampaignRename(name="X", version=1))


def test_update_message_checks_merge_fields(con: Con) -> None:
    campaign_id, _, _, version = campaign(con)
    with pytest.raises(ValidationFailed) as refused:
        manage.update_message(
            con,
            campaign_id,
            CampaignMessageUpdate(subject="Hi [Frist Name]", template="Hi [Name", version=version),
        )
    assert "Did you mean [First Name]?" in refused.value.errors["subject"]
    assert "never closes" in refused.value.errors["template"]
    new = manage.update_message(
        con,
        campaign_id,
        CampaignMessageUpdate(subject="For [City]", template="Hi [First Name]", version=version),
    )
    row = con.execute(
        "SELECT subject, template, version FROM campaigns WHERE id = $id", {"id": campaign_id}
    ).fetchone()
    assert row == ("For [City]", "Hi [First Name]", new)


def test_delete_takes_sends_and_recounts_members_engagement(con: Con) -> None:
    campaign_id, _, _, version = campaign(con)
    members = con.execute(
        "SELECT count(*) FROM campaign_sends WHERE campaign_id = $id", {"id": campaign_id}
    ).fetchone()
    with pytest.raises(ConflictError):
        manage.delete_campaign(con, campaign_id, version + 1)
    assert manage.delete_campaign(con, campaign_id, version) == (members[0] if members else -1)
    assert con.execute(
        "SELECT count(*) FROM campaign_sends WHERE campaign_id = $id", {"id": campaign_id}
    ).fetchone() == (0,)
    stored = con.execute(
        "SELECT id, delivered_sends, opened_sends, last_engaged_at FROM customers ORDER BY id"
    ).fetchall()
    facts.fill_all(con)  # every customer's figures from the sends left
    assert (
        con.execute(
            "SELECT id, delivered_sends, opened_sends, last_engaged_at FROM customers ORDER BY id"
        ).fetchall()
        == stored
    )
    with pytest.raises(NotFound):
        manage.delete_campaign(con, campaign_id, version)
