"""WeChat Pay's and Alipay's bill exports, in their real layouts: account lines, a dashed title, then the table.
Each entry: (收/支, amount as the wallet writes it, status, memo)."""

YUAN_GBK = "\uffe5"  # the full-width yuan sign: GBK has no "¥", so a GBK export writes this one

WECHAT_HEADER = "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注"
ALIPAY_HEADER = (
    "交易时间,交易分类,交易对方,对方账号,商品说明,收/支,金额,收/付款方式,交易状态,交易订单号,商家订单号,备注,"
)


def wechat_bill(entries: list[tuple[str, str, str, str]]) -> str:
    lines = [
        "微信支付账单明细,,,,,,,,",
        "微信昵称：[团长小王],,,,,,,,",
        "起始时间：[2026-12-01 00:00:00] 终止时间：[2026-12-08 00:00:00],,,,,,,,",
        "导出类型：[全部],,,,,,,,",
        "导出时间：[2026-12-08 09:30:12],,,,,,,,",
        ",,,,,,,,",
        f"共{len(entries)}笔记录,,,,,,,,",
        "收入：1笔 59.00元,,,,,,,,",
        "支出：0笔 0.00元,,,,,,,,",
        "中性交易：0笔 0.00元,,,,,,,,",
        "注：,,,,,,,,",
        "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,",
        "2. 本明细仅展示当前账单中的交易，不包括已删除的记录,,,,,,,,",
        "3. 本明细仅供个人对账使用,,,,,,,,",
        ",,,,,,,,",
        "----------------------微信支付账单明细列表--------------------,,,,,,,,",
        WECHAT_HEADER,
    ]
    for number, (direction, amount, status, memo) in enumerate(entries):
        kind = "转账" if direction == "收入" else "商户消费"
        lines.append(
            f"2026-12-07 20:{number:02d}:05,{kind},张三,/,{direction},{amount},零钱,{status},"
            f"10000500012026120720{number:08d}\t,/,{memo}"
        )
    return "\n".join(lines) + "\n"


def alipay_bill(entries: list[tuple[str, str, str, str]]) -> str:
    lines = [
        "------------------------------------------------------------------------------------",
        "导出信息：",
        "姓名：王小明",
        "支付宝账户：wang***@example.com",
        "起始时间：[2026-12-01 00:00:00]    终止时间：[2026-12-08 00:00:00]",
        "导出交易类型：[全部]",
        "导出时间：[2026-12-08 09:31:40]",
        f"共{len(entries)}笔记录",
        "收入：1笔 59.00元",
        "支出：0笔 0.00元",
        "不计收支：0笔 0.00元",
        "",
        "特别提示：",
        "1.本回单内容可表明支付宝受理了相关交易申请，不代表交易已成功；",
        "------------------------支付宝（中国）网络技术有限公司  电子客户回单------------------------",
        ALIPAY_HEADER,
    ]
    for number, (direction, amount, status, memo) in enumerate(entries):
        lines.append(
            f"2026-12-07 20:{number:02d}:40,转账红包,李四,li***@example.com,{memo},{direction},{amount},余额,"
            f"{status},2026120722001{number:012d}\t,\t,,"
        )
    return "\n".join(lines) + "\n"
