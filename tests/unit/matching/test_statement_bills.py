"""Wallet bills as leaders export them: generated here in their real layouts and encodings."""

import pytest

from flexsupply.contracts.errors import InvalidField
from flexsupply.matching.domain.statements import StatementFormat, parse_any_statement
from flexsupply.matching.payments import decode_statement
from tests.support.bills import YUAN_GBK, alipay_bill, wechat_bill


def test_a_wechat_bill_yields_its_received_lines_with_references() -> None:
    text = wechat_bill(
        [
            ("收入", "¥59.00", "已存入零钱", "fs-abcd1234"),
            ("支出", "¥12.00", "支付成功", "/"),
            ("收入", "¥30.00", "已存入零钱", "谢谢"),
        ]
    )
    parsed = parse_any_statement(text)
    assert parsed.format is StatementFormat.WECHAT
    assert [(line.reference, line.amount_cents, line.problem) for line in parsed.lines] == [
        ("FS-ABCD1234", 5900, None),
        (None, 3000, None),
    ]
    assert "fs-abcd1234" in text.splitlines()[parsed.lines[0].line - 1]  # the file's own line number


def test_a_refunded_payment_in_a_bill_is_reported_not_paid() -> None:
    parsed = parse_any_statement(wechat_bill([("收入", "¥59.00", "已全额退款", "FS-ABCD1234")]))
    (line,) = parsed.lines
    assert line.amount_cents is None and line.problem is not None and "已全额退款" in line.problem


def test_an_alipay_bill_yields_its_received_lines() -> None:
    parsed = parse_any_statement(alipay_bill([("收入", "59.00", "交易成功", "转账 FS-ABCD1234")]))
    assert parsed.format is StatementFormat.ALIPAY
    assert [(line.reference, line.amount_cents) for line in parsed.lines] == [("FS-ABCD1234", 5900)]


def test_a_bank_csv_still_reads() -> None:
    parsed = parse_any_statement("date,amount,memo\n2026-12-07,59.00,FS-ABCD1234\n")
    assert parsed.format is StatementFormat.CSV
    assert parsed.lines[0].reference == "FS-ABCD1234"


def test_a_bill_without_its_amount_column_names_what_it_needs() -> None:
    with pytest.raises(InvalidField, match="金额"):
        parse_any_statement("交易时间,交易类型,交易对方,收/支,当前状态,交易单号\n")


def test_an_older_bill_header_with_full_width_parentheses_reads() -> None:
    text = wechat_bill([("收入", "¥59.00", "已存入零钱", "FS-ABCD1234")]).replace("金额(元)", "金额\uff08元\uff09")
    assert [line.amount_cents for line in parse_any_statement(text).lines] == [5900]


def test_a_gbk_bill_decodes_as_gbk_and_a_utf8_one_as_utf8() -> None:
    text = wechat_bill([("收入", f"{YUAN_GBK}59.00", "已存入零钱", "FS-ABCD1234")])
    assert decode_statement(text.encode("gbk")) == text
    assert decode_statement(b"\xef\xbb\xbf" + text.encode()) == text


def test_an_older_alipay_trade_record_reads_its_padded_cells() -> None:
    text = (
        "支付宝交易记录明细查询\n"
        "账号:[wang***@example.com]\n"
        "起始日期:[2026-12-01 00:00:00]    终止日期:[2026-12-08 00:00:00]\n"
        "---------------------------------交易记录明细列表------------------------------------\n"
        "交易号,商户订单号,交易创建时间,付款时间,最近修改时间,交易来源地,类型,交易对方,商品名称,金额（元）,收/支,"
        "交易状态,服务费（元）,成功退款（元）,备注,资金状态,\n"
        "2026120722001  ,  ,2026-12-07 20:01:02,2026-12-07 20:01:05,2026-12-07 20:01:05,其他,即时到账交易,李四  ,"
        "转账                ,59.00   ,收入    ,交易成功    ,0.00    ,0.00    ,FS-ABCD1234 ,已收入   ,\n"
        "------------------------------------------------------------------------------------\n"
        "共1笔记录\n"
    )
    parsed = parse_any_statement(text)
    assert parsed.format is StatementFormat.ALIPAY
    assert [(line.line, line.reference, line.amount_cents) for line in parsed.lines] == [(6, "FS-ABCD1234", 5900)]
