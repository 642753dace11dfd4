"""Host alerts from kgsm-monitor: a threshold (memory, disk, CPU, …) crossed and cleared.

They name the host (the envelope's `Hostname`), not a server; `Band` (warn or danger) grades a breach.
"""

from bot.events.model import Family, Outcome, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.HOST,
    Subject.HOST,
    entry(
        "host.threshold.breached",
        "threshold crossed",
        "📈",
        legacy="host_threshold_breached",
        sentence="{subject} crossed the {RuleKey} threshold[: {Metric} at {PeakValue}][ (limit {Threshold})].",
        severity=Severity.WARN,
        outcome=Outcome.FAILURE,
        severity_key="Band",
    ),
    entry(
        "host.threshold.cleared",
        "threshold cleared",
        "📉",
        legacy="host_threshold_cleared",
        sentence="{subject} is back under the {RuleKey} threshold[ ({CloseReason})].",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
    ),
)
