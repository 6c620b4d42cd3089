"""Manager pages show times in the business's time zone (CALLERID_TIMEZONE), not in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from ..factories import add_call, add_customer


def test_the_customer_timeline_reads_in_the_business_zone(app, as_manager, session):
    anna = add_customer(session, "Anna Moors")
    add_call(session, anna, at=datetime(2026, 7, 4, 1, 30, tzinfo=UTC))
    session.commit()
    app.config["CALLERID_TIMEZONE"] = "America/Los_Angeles"
    page = as_manager.get(f"/customers/{anna.id}").get_data(as_text=True)
    assert "2026-07-03 18:30" in page  # 01:30 UTC is 18:30 the evening before in California
    assert "2026-07-04 01:30" not in page
