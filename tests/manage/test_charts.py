"""The geometry behind the insights charts: round axes, proportional bars, readable labels; and
the periods the page can be asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from callerid.manage import charts, periods
from callerid.manage.charts import Series, bar_chart, horizontal_chart, nice_ticks


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (7, [0, 2, 4, 6, 8]),
        (3, [0, 1, 2, 3]),
        (1, [0, 1]),
        (10, [0, 5, 10]),
        (37, [0, 10, 20, 30, 40]),
        (120, [0, 50, 100, 150]),
        (1680, [0, 500, 1000, 1500, 2000]),
        (0, [0, 1]),
    ],
)
def test_axis_ticks_are_round_steps_from_zero_past_the_maximum(maximum, ticks):
    assert nice_ticks(maximum) == ticks


def test_fractional_ticks_for_measurements_print_cleanly():
    assert nice_ticks(0.7, whole=False) == [0, 0.2, 0.4, 0.6, 0.8]
    assert [charts.tick_text(t) for t in nice_ticks(0.3, whole=False)] == ["0", "0.1", "0.2", "0.3"]
    assert charts.tick_text(1500) == "1,500"


@pytest.mark.parametrize("maximum", [1, 2, 3, 9, 11, 99, 101, 999, 12345])
def test_every_axis_reaches_the_maximum_in_a_handful_of_equal_steps(maximum):
    ticks = nice_ticks(maximum)
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    assert ticks[-2] < maximum <= ticks[-1]
    assert 1 <= len(ticks) - 1 <= 5


def test_bar_heights_are_proportional_to_the_values():
    chart = bar_chart(["a", "b", "c"], [Series("calls", "Calls", [2, 4, 0])])
    heights = [sum(s.height for s in bar.segments) for bar in chart.bars]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] == 0 and chart.bars[2].segments == []
    # The axis ends at 4, so the tallest bar fills the plot exactly.
    assert chart.maximum == 4
    assert heights[1] == pytest.approx(chart.bottom - chart.top)
    assert all(
        bar.y + sum(s.height for s in bar.segments) == pytest.approx(chart.bottom)
        for bar in chart.bars
    )


def test_stacked_segments_sit_on_each_other_in_series_order():
    chart = bar_chart(
        ["mon"], [Series("answered", "Answered", [3]), Series("missed", "Missed", [1])]
    )
    answered, missed = chart.bars[0].segments
    assert (answered.key, missed.key) == ("answered", "missed")
    assert answered.y + answered.height == pytest.approx(chart.bottom)
    assert missed.y + missed.height == pytest.approx(answered.y)
    assert answered.height == pytest.approx(3 * missed.height)
    assert chart.bars[0].total == 4


def test_ticks_are_placed_on_the_same_scale_as_the_bars():
    chart = bar_chart(["a"], [Series("calls", "Calls", [6])])
    assert [t.text for t in chart.ticks] == ["0", "2", "4", "6"]
    assert chart.ticks[0].position == pytest.approx(chart.bottom)
    assert chart.ticks[-1].position == pytest.approx(chart.bars[0].y)


def test_bars_stay_inside_the_plot_and_do_not_overlap():
    chart = bar_chart([str(n) for n in range(90)], [Series("calls", "Calls", [1] * 90)])
    for left, right in zip(chart.bars, chart.bars[1:], strict=False):
        assert left.x + left.width < right.x
    assert chart.bars[0].x >= chart.left
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.right


def test_a_lone_bar_keeps_a_sensible_width():
    chart = bar_chart(["today"], [Series("calls", "Calls", [5])])
    assert chart.bars[0].width == charts.MAX_BAR


def test_long_ranges_label_only_some_bars_and_never_crowd():
    days = [f"d{n}" for n in range(90)]
    chart = bar_chart(days, [Series("calls", "Calls", [1] * 90)], short_labels=days)
    gaps = [b.position - a.position for a, b in zip(chart.labels, chart.labels[1:], strict=False)]
    assert chart.labels[0].text == "d0"
    assert min(gaps) >= 50
    hours = bar_chart(
        [str(h) for h in range(24)], [Series("calls", "Calls", [0] * 24)], label_every=3
    )
    assert [t.text for t in hours.labels] == ["0", "3", "6", "9", "12", "15", "18", "21"]


def test_an_empty_chart_has_a_scale_and_no_bars_to_draw():
    chart = bar_chart(["a", "b"], [Series("calls", "Calls", [0, 0])])
    assert [t.value for t in chart.ticks] == [0, 1]
    assert all(bar.segments == [] for bar in chart.bars)


def test_a_series_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart(["a", "b", "c"], [Series("calls", "Calls", [1, 2])])


def test_horizontal_bars_are_proportional_on_a_round_axis():
    chart = horizontal_chart([("Median", 350.0), ("95th", 1625.0)])
    median, p95 = chart.rows
    assert [t.value for t in chart.ticks] == [0, 500, 1000, 1500, 2000]
    assert p95.width == pytest.approx(median.width * 1625 / 350)
    assert chart.ticks[-1].position == pytest.approx(chart.right)
    assert median.y + chart.row_height == pytest.approx(p95.y)


NOW = datetime(2026, 1, 7, 15, 30, tzinfo=UTC)


def test_a_preset_runs_from_local_midnight_days_ago_until_now():
    period = periods.choose({"period": "7d", "tz": "America/New_York"}, NOW, "UTC")
    assert (period.first, period.last) == (date(2026, 1, 1), date(2026, 1, 7))
    assert period.since == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert period.until == NOW
    assert period.label == "Last 7 days"


def test_a_custom_range_covers_whole_days_in_the_zone():
    period = periods.choose({"from": "2026-01-05", "to": "2026-01-05"}, NOW, "Asia/Kolkata")
    assert period.key == "custom"
    assert period.since == datetime(2026, 1, 4, 18, 30, tzinfo=UTC)
    assert period.until == datetime(2026, 1, 5, 18, 30, tzinfo=UTC)
    assert period.label == "5 Jan 2026"


def test_without_arguments_the_last_thirty_days_in_the_default_zone():
    period = periods.choose({}, NOW, "Europe/Berlin")
    assert (period.key, period.zone.key) == ("30d", "Europe/Berlin")
    assert (period.last - period.first).days == 29
