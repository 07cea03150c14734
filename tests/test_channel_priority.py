"""Channel ranks, strict masking and the PriorityReport."""

from __future__ import annotations

import json

import pytest

from conda_deepdive.solve.channel_priority import (
    MAX_CHANNEL_PRIORITY,
    PriorityReport,
    apply_channel_priority,
    make_channel_priorities,
    strict_channel_name,
)
from conda_deepdive.exceptions import CondaValueError
from conda_deepdive.models.channel import Channel, MultiChannel
from conda_deepdive.models.records import PackageRecord
from conda_deepdive.reporting import RecordingReporter


def rec(name, version, channel, build="0"):
    return PackageRecord(name=name, version=version, build=build, channel=channel, subdir="linux-64")


def test_ranks_follow_channel_order_and_keep_first_rank():
    ranks = make_channel_priorities(["chan-a", "chan-b", "chan-a", "chan-c"])
    # the counter advances even for the repeated name, as in conda's enumerate
    assert ranks == {"chan-a": 0, "chan-b": 1, "chan-c": 3}


def test_multichannel_members_get_consecutive_ranks():
    members = [Channel("pkgs-main-x"), Channel("pkgs-r-x")]
    multi = MultiChannel("defaults", members)
    ranks = make_channel_priorities([Channel("first"), multi, "last"])
    assert ranks == {"first": 0, "pkgs-main-x": 1, "pkgs-r-x": 2, "last": 3}
    assert max(ranks.values()) < MAX_CHANNEL_PRIORITY


def test_strict_channel_is_best_ranked_channel_offering_the_name():
    ranks = {"hi": 0, "lo": 1}
    assert strict_channel_name([rec("x", "1", "lo"), rec("x", "2", "hi")], ranks) == "hi"
    assert strict_channel_name([rec("x", "1", "lo")], ranks) == "lo"
    # a channel outside the list counts as rank 1 (conda's default) and loses to rank 0
    assert strict_channel_name([rec("x", "1", "elsewhere"), rec("x", "1", "hi")], ranks) == "hi"
    assert strict_channel_name([], ranks) is None


def records():
    return [
        rec("numpy", "1.11", "hi"),
        rec("numpy", "1.15", "lo"),
        rec("numpy", "1.14", "lo"),
        rec("scipy", "1.0", "lo"),
        rec("zlib", "1.2", "hi"),
    ]


def test_strict_report_masks_lower_channels_per_name():
    reporter = RecordingReporter()
    report = apply_channel_priority(records(), ["hi", "lo"], "strict", reporter=reporter)
    assert isinstance(report, PriorityReport)
    numpy = report["numpy"]
    assert numpy.offered_by == ("hi", "lo") and numpy.records_per_channel == (1, 2)
    assert numpy.kept == "hi" and numpy.masked == ("lo",) and numpy.masked_count == 2
    assert report["scipy"].masked == ()  # only one channel offers it: nothing to mask
    assert report.is_masked(rec("numpy", "1.15", "lo"))
    assert not report.is_masked(rec("numpy", "1.11", "hi"))
    assert [p.name for p in report.contested] == ["numpy"]
    assert "numpy" in repr(numpy) and "masked: lo" in repr(numpy)
    assert "2 records masked" in repr(report)
    summary = report.summary()
    assert summary["masked_records"] == 2
    json.dumps(summary)
    kinds = reporter.kinds("priority")
    assert kinds[0] == "channel_ranks" and "masked" in kinds and kinds[-1] == "summary"


@pytest.mark.parametrize("mode", ["flexible", "disabled"])
def test_flexible_and_disabled_mask_nothing(mode):
    report = apply_channel_priority(records(), ["hi", "lo"], mode)
    assert report.masked == [] and report["numpy"].kept is None
    assert report.ranks == {"hi": 0, "lo": 1}


def test_bad_mode_is_a_clear_error():
    with pytest.raises(CondaValueError, match="channel_priority must be one of"):
        apply_channel_priority(records(), ["hi"], "sometimes")


def test_reporters_say_whether_a_stage_s_events_are_seen():
    """Stages skip work done only to report when nobody listens (``Reporter.listens``)."""
    from conda_deepdive.cli.install import ConsoleProgress
    from conda_deepdive.reporting import MultiReporter, Reporter

    class Counting(Reporter):
        def event(self, stage, kind, **data):
            pass

    assert not Reporter().listens("priority")
    assert RecordingReporter().listens("priority") and Counting().listens("index")
    assert not MultiReporter([Reporter(), Reporter()]).listens("priority")
    assert MultiReporter([Reporter(), RecordingReporter()]).listens("priority")
    console = ConsoleProgress(Reporter())  # what ``create --json`` runs with
    assert not console.listens("priority") and not console.listens("index")
    assert all(console.listens(s) for s in ("solve", "link", "transaction"))  # its spinners
    assert ConsoleProgress(RecordingReporter()).listens("priority")
