"""Background work of the matching service: events in, idempotent, settings and engines made on the worker's loop."""

from uuid import UUID

from flexsupply.clients.suppliers import SuppliersClient
from flexsupply.contracts.events import (
    AwardAnswerDue,
    BuyerRefundOwed,
    MatchRunRequested,
    RefundDue,
    RfqRoundAcknowledged,
    SaleClosingDue,
    SaleOpeningDue,
    SourcingRoundDue,
    WechatPaymentCheckDue,
    WechatPaymentDue,
)
from flexsupply.kit.clock import utc_now
from flexsupply.kit.db import database_for_current_loop
from flexsupply.kit.events import Consumer
from flexsupply.kit.peers import peer_client
from flexsupply.matching import awards, checkout, refunds, runs, sales, services, wechatpay
from flexsupply.matching.schemas import MAX_TIME_LIMIT_SECONDS
from flexsupply.matching.settings import MatchingSettings
from flexsupply.matching.wechatpay import RefundState, WechatPayClient, WechatPayError

event_queue = Consumer("matching.events", max_retries=10, min_backoff=1_000, max_backoff=300_000, time_limit=120_000)
# Solves have their own queue, so that a long one never holds up deadlines; run it with few threads
# (`flexsupply worker -Q matching.solve -t 1`). The limit covers the solve, the standalone solves of a federated
# round and reading quotes: under RabbitMQ's 30-minute consumer timeout.
solve_queue = Consumer(
    "matching.solve",
    max_retries=5,
    min_backoff=5_000,
    max_backoff=300_000,
    time_limit=int((2 * MAX_TIME_LIMIT_SECONDS + 300) * 1000),
)


@event_queue.on(RfqRoundAcknowledged)
async def record_rfqs_sent(event: RfqRoundAcknowledged, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await services.record_rfqs_sent(session, event)


@event_queue.on(SourcingRoundDue)
async def match_round_at_deadline(event: SourcingRoundDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await runs.run_round_at_deadline(session, event.round_id, settings.match_time_limit_seconds)


@event_queue.on(AwardAnswerDue)
async def expire_unanswered_award(event: AwardAnswerDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await awards.expire_award(session, event.award_id, utc_now())


@event_queue.on(SaleOpeningDue)
async def open_sale(event: SaleOpeningDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await sales.open_sale(session, event.package_id, utc_now())


@event_queue.on(SaleClosingDue)
async def close_sale(event: SaleClosingDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    terms = sales.AwardTerms(settings.match_time_limit_seconds, settings.award_answer_hours)
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await sales.close_sale(session, event.package_id, sales.SALE_CLOCK, utc_now(), terms)


# WeChat Pay's calls: no transaction is held across them. A 5xx or a network error raises (the message is retried,
# and the sweeper sends it again later); a refusal is recorded.


@event_queue.on(WechatPaymentDue)
async def make_wechat_payment(event: WechatPaymentDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    database = database_for_current_loop(settings.database_url)
    async with database.transaction() as session:
        wanted = await checkout.native_order_to_make(session, event.order_id)
    if wanted is None:
        return
    config, http = wechatpay.client(settings)
    async with http:
        try:
            code_url = await WechatPayClient(config, http).create_native_order(
                wanted.out_trade_no, wanted.description, wanted.total_cents, wanted.expires_at
            )
            error = None
        except WechatPayError as refused:
            if refused.status >= 500:
                raise
            code_url, error = None, str(refused)
    async with database.transaction() as session:
        await checkout.record_native_order(session, event.order_id, code_url, error)


@event_queue.on(WechatPaymentCheckDue)
async def check_wechat_payment(event: WechatPaymentCheckDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    database = database_for_current_loop(settings.database_url)
    async with database.transaction() as session:
        out_trade_no = await checkout.trade_to_check(session, event.order_id)
    if out_trade_no is None:
        return
    config, http = wechatpay.client(settings)
    async with http:
        state = await WechatPayClient(config, http).query_order(out_trade_no)
    async with database.transaction() as session:
        await sales.pay_by_wechat(session, state)


@event_queue.on(RefundDue)
async def execute_refund(event: RefundDue, event_id: UUID) -> None:
    settings = MatchingSettings()
    database = database_for_current_loop(settings.database_url)
    async with database.transaction() as session:
        call = await refunds.refund_call(session, event.refund_id, utc_now())
    if call is None:
        return
    config, http = wechatpay.client(settings)
    state: RefundState | None = None
    error: str | None = None
    async with http:
        client = WechatPayClient(config, http)
        try:
            if call.query_only:
                state = await client.query_refund(call.out_refund_no)
            else:
                state = await client.create_refund(
                    call.out_refund_no, call.out_trade_no, call.refund_cents, call.total_cents, call.reason
                )
        except WechatPayError as refused:
            # Unknown to WeChat Pay when queried: the request never arrived, and is made again after the backoff.
            if refused.status >= 500 or (call.query_only and refused.code != "RESOURCE_NOT_EXISTS"):
                raise
            error = str(refused)
    async with database.transaction() as session:
        await refunds.record_refund_state(session, event.refund_id, state, error, utc_now())


@event_queue.on(BuyerRefundOwed)
async def owe_buyer_refund(event: BuyerRefundOwed, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with database_for_current_loop(settings.database_url).transaction() as session:
        await refunds.owe_fulfilment_refund(session, event)


@solve_queue.on(MatchRunRequested)
async def solve_match_run(event: MatchRunRequested, event_id: UUID) -> None:
    settings = MatchingSettings()
    async with peer_client(settings, "suppliers") as http:
        await runs.execute(
            database_for_current_loop(settings.database_url),
            SuppliersClient(http),
            event.run_id,
            settings.run_lease_margin_seconds,
        )
