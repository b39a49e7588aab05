"""The webhook retry schedule: more than a day of attempts before a delivery is given up."""

from datetime import timedelta

from flexsupply.suppliers.domain.webhook_retry import STANDARD_SCHEDULE_SECONDS, RetryPolicy


def test_the_standard_schedule_keeps_trying_for_more_than_a_day():
    policy = RetryPolicy(STANDARD_SCHEDULE_SECONDS, call_timeout_seconds=10)
    waits = [policy.wait_after(number) for number in range(1, policy.max_attempts)]
    assert waits == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=10),
    ]
    assert sum(STANDARD_SCHEDULE_SECONDS) >= timedelta(hours=24).total_seconds()
    assert policy.max_attempts == 8
    assert policy.wait_after(policy.max_attempts) is None


def test_an_attempt_in_flight_is_leased_just_past_its_call_deadline():
    assert RetryPolicy((1.0,), call_timeout_seconds=10).lease == timedelta(seconds=15)
