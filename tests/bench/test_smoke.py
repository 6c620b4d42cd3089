"""Every benchmark runs to the end at a tiny size and reports what it promises: figures present,
no event lost or duplicated. Speed is never asserted here (see docs/benchmarks.md for figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import (
    board,
    burst,
    corepath,
    dataset,
    growth,
    history,
    hooks,
    importer,
    logins,
    lookup,
    reconnect,
    screenpop,
    slowclients,
    soak,
    webhook,
)

pytestmark = [pytest.mark.bench, pytest.mark.e2e]


def _common(workdir: Path, backend: str = "sqlite") -> list[str]:
    return ["--workdir", str(workdir), "--backend", backend]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and value >= 0


def test_dataset_fills_every_table_with_valid_numbers(workdir: Path) -> None:
    found = dataset.main(_common(workdir))
    (run,) = found["runs"]
    assert run["rows"]["customers"] == 1000
    assert run["rows"]["calls"] == 5000
    assert run["rows"]["phone_numbers"] >= 1000
    assert run["numbers_valid"] == run["numbers_checked"] > 0


def _assert_webhook(found: dict) -> None:
    (run,) = found["runs"]
    (round_,) = run["rounds"]
    assert _is_number(round_["bare_rps"]) and round_["bare_rps"] > 0
    assert _is_number(round_["full_rps"]) and round_["full_rps"] > 0
    assert set(round_["full_statuses"]) == {200}
    assert run["latency"]["count"] > 0 and _is_number(run["latency"]["p99"])
    recorded = run["recorded"]
    assert recorded["throughput_calls_recorded"] > 0
    assert recorded["throughput_events_recorded"] == recorded["throughput_calls_recorded"]


def test_webhook_reports_throughput_and_latency(workdir: Path) -> None:
    args = ["--rounds", "1", "--seconds", "1", "--latency-seconds", "1", "--rate", "20"]
    args += ["--warmup", "0.5", "--max-rate", "1000"]
    _assert_webhook(webhook.main([*_common(workdir), *args, "--generator", "python"]))


def test_webhook_runs_on_postgresql(workdir: Path, postgres_ok: None) -> None:
    args = ["--rounds", "1", "--seconds", "1", "--latency-seconds", "1", "--rate", "20"]
    args += ["--warmup", "0.5", "--max-rate", "1000"]
    _assert_webhook(webhook.main([*_common(workdir, "postgresql"), *args, "--generator", "python"]))


def test_webhook_profile_names_where_the_time_goes(workdir: Path) -> None:
    found = webhook.main([*_common(workdir), "--profile", "--requests", "60"])
    (run,) = found["runs"]
    assert run["statuses"] == {200: 30}
    assert {"signature check (validator)", "card for the event", "commit"} <= set(run["phases_us"])
    assert "cumulative" in run["cprofile"]


def _assert_every_screen_got_every_call(run: dict, screens: int, calls: int) -> None:
    assert run["refused"] == [] and run["disconnected"] == 0
    assert run["expected"] == screens * calls
    assert run["lost"] == 0 and run["duplicated"] == 0 and run["out_of_order"] == 0
    assert run["delivered"] == screens * calls
    assert _is_number(run["latency_ms"]["p99"])


def test_screenpop_reaches_every_screen_once(workdir: Path) -> None:
    args = ["--screens", "10", "--webhooks", "5", "--rate", "10"]
    found = screenpop.main([*_common(workdir), *args])
    _assert_every_screen_got_every_call(found["runs"][0], 10, 5)


def test_screenpop_across_two_instances_on_postgresql(workdir: Path, postgres_ok: None) -> None:
    args = ["--screens", "10", "--webhooks", "5", "--rate", "10", "--instances", "2"]
    found = screenpop.main([*_common(workdir, "postgresql"), *args])
    (run,) = found["runs"]
    assert run["instances"] == 2
    _assert_every_screen_got_every_call(run, 10, 5)


def test_screenpop_with_screens_and_webhooks_on_separate_instances(
    workdir: Path, postgres_ok: None
) -> None:
    args = ["--screens", "10", "--webhooks", "5", "--instances", "2", "--split-roles"]
    found = screenpop.main([*_common(workdir, "postgresql"), *args])
    (run,) = found["runs"]
    assert run["split_roles"] is True
    _assert_every_screen_got_every_call(run, 10, 5)


def test_board_reports_webhook_to_card_drawn(workdir: Path) -> None:
    found = board.main([*_common(workdir), "--rings", "3", "--warmup", "1"])
    (run,) = found["runs"]
    assert run["webhook_to_card_ms"]["count"] == 3
    assert _is_number(run["webhook_to_card_ms"]["p50"])
    assert run["acknowledged"] == 3  # every card drawn was reported back to the server once
    assert run["server_errors"] == []


def test_reconnect_storm_never_answers_a_server_error(workdir: Path, postgres_ok: None) -> None:
    found = reconnect.main([*_common(workdir, "postgresql"), "--screens", "20", "--storms", "2"])
    (run,) = found["runs"]
    assert len(run["storms"]) == 2
    for storm in run["storms"]:
        assert set(storm["statuses"]) <= {"200", "503"}
        assert sum(storm["statuses"].values()) == 20


def test_growth_compares_small_and_large(workdir: Path) -> None:
    args = ["--large-customers", "1500", "--large-calls", "3000", "--lookups", "100"]
    args += ["--requests", "30", "--seconds", "0.5", "--rate", "20"]
    found = growth.main([*_common(workdir), *args])
    (run,) = found["runs"]
    assert all(_is_number(value) for value in run["ratios"].values())


def test_importer_imports_and_exports_through_the_cli(workdir: Path) -> None:
    found = importer.main([*_common(workdir), "--rows", "300", "--export-sizes", "100,300"])
    (run,) = found["runs"]
    assert run["import"]["exit"] == 0 and _is_number(run["import"]["seconds"])
    assert [e["exit"] for e in run["export"]] == [0, 0]
    assert all(e["peak_rss_mib"] > 0 and e["bytes"] > 0 for e in run["export"])


def test_history_answers_every_request(workdir: Path) -> None:
    found = history.main([*_common(workdir), "--repeat", "2"])
    (run,) = found["runs"]
    for name, endpoint in run["endpoints"].items():
        assert endpoint["statuses"] == [200], name
        assert _is_number(endpoint["p50"]), name


def test_hooks_backlog_waits_in_the_database(workdir: Path) -> None:
    found = hooks.main([*_common(workdir), "--backlog", "200", "--backlog-seconds", "2"])
    (run,) = found["runs"]
    assert run["rss_kib_first"] > 0 and sum(run["deliveries"].values()) > 0


def test_lookup_answers_every_case(workdir: Path) -> None:
    found = lookup.main([*_common(workdir), "--requests", "5"])
    (run,) = found["runs"]
    for name, case in run["cases"].items():
        assert case["statuses"] == [200], name
        assert case["count"] == 5 and _is_number(case["p99"]), name


def test_soak_loses_nothing(workdir: Path) -> None:
    args = ["--seconds", "3", "--rate", "5", "--screens", "5", "--sample-every", "1"]
    found = soak.main([*_common(workdir), *args])
    (run,) = found["runs"]
    assert run["refused"] == [] and run["disconnected"] == 0
    for kind, events in run["events"].items():
        assert events["expected"] == 15 * 5, kind
        assert events["lost"] == 0 and events["duplicated"] == 0, kind
    assert len(run["memory"]) >= 2 and all(s["total_mib"] > 0 for s in run["memory"])


def test_corepath_compares_the_webhook_path_with_other_spellings(workdir: Path) -> None:
    found = corepath.main([*_common(workdir), "--requests", "20"])
    (run,) = found["runs"]
    keys = ("app_us", "grouped_us", "session_us", "core_us", "prebuilt_us", "driver_us")
    assert all(run[key] > 0 for key in keys)


def _assert_burst_lost_nothing(run: dict, calls: int) -> None:
    assert run["voice_statuses"] == {200: calls + run["voice_retried"]}
    assert run["no_twiml"] == 0
    assert run["calls_missing"] == 0, run["missing_examples"]
    assert run["acknowledged_not_applied"] == 0, run["troubled_calls_answers"]
    assert run["callbacks_given_up"] == 0
    assert run["refused_screens"] == [] and run["disconnected_screens"] == 0
    assert run["events_written"] > 0 and run["events_expected"] > 0
    assert run["events_lost"] == 0
    assert run["events_duplicated"] == 0
    assert run["events_out_of_order"] == 0
    assert run["screen_pop_ms"]["count"] > 0 and _is_number(run["screen_pop_ms"]["p99"])
    assert _is_number(run["generator_cpu_share"])
    assert all(m["peak_after"] for m in run["memory_kib"].values())


# Quick: a call's callbacks a few tens of milliseconds apart, no warm-up (speed is not asserted
# here, and a cold server only slows the first calls down).
_BURST = ["--calls", "20", "--pace", "0.02", "--warmup", "0", "--screens", "2"]


def test_burst_records_every_call_and_callback_on_sqlite(workdir: Path) -> None:
    found = burst.main([*_common(workdir), *_BURST])
    (run,) = found["runs"]
    assert run["instances"] == 1
    _assert_burst_lost_nothing(run, 20)


def test_burst_records_every_call_and_callback_on_two_instances(
    workdir: Path, postgres_ok: None
) -> None:
    found = burst.main([*_common(workdir, "postgresql"), *_BURST])
    (run,) = found["runs"]
    assert run["instances"] == 2
    _assert_burst_lost_nothing(run, 20)


def test_logins_times_known_and_unknown_names() -> None:
    (run,) = logins.main(["--rounds", "2"])["runs"]
    assert run["known"]["count"] == run["unknown"]["count"] == 2
    assert _is_number(run["known"]["p50"]) and _is_number(run["unknown"]["p50"])


def test_slowclients_probes_while_a_flood_holds_connections() -> None:
    (run,) = slowclients.main(["--clients", "10", "--addresses", "2", "--seconds", "0.2"])["runs"]
    assert run["connected"] == 10 and sum(run["flood_endings"].values()) == 10
    assert set(run["healthz"]["statuses"]) == set(run["webhook"]["statuses"]) == {200}
