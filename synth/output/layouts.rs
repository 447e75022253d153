//! The row layouts of the input kinds as the files arrive: each column's canonical
//! name and its Chinese header (schemas/, docs/rules.md § Input acceptance).

pub(super) type Cols = &'static [(&'static str, &'static str)];

pub(super) const ENROLLMENT: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("hukou_type", "户籍性质"),
    ("township", "乡镇(街道)"),
    ("village", "村(居)"),
    ("enroll_date", "参保日期"),
    ("tier", "缴费档次"),
    ("bank_account", "银行账号"),
    ("agreement", "三方协议"),
    ("phone", "联系电话"),
    ("address", "居住地址"),
];
pub(super) const CHANGE: Cols = &[
    ("person_no", "个人编号"),
    ("field", "变更项目"),
    ("old_value", "变更前"),
    ("new_value", "变更后"),
    ("change_date", "变更日期"),
    ("operator", "经办人"),
];
/// The cancellation file carries one column the contract does not know (备注).
pub(super) const CANCELLATION: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("reason", "注销原因"),
    ("event_date", "事件日期"),
    ("apply_date", "申请日期"),
    ("refund_amount", "退还金额"),
    ("payee", "领取人"),
    ("remark", "备注"),
];
pub(super) const CONTRIBUTION: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("year", "缴费年度"),
    ("amount", "缴费金额"),
    ("kind", "缴费类型"),
    ("channel", "缴费方式"),
    ("receipt_no", "收据号"),
    ("paid_date", "缴费日期"),
    ("status", "扣款状态"),
    ("fail_reason", "失败原因"),
];
pub(super) const COLLECTIVE: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("year", "补助年度"),
    ("amount", "补助金额"),
    ("payer", "补助单位"),
    ("paid_date", "到账日期"),
];
pub(super) const GOV_SUBSIDY: Cols = &[
    ("voucher_no", "流水号"),
    ("person_no", "个人编号"),
    ("year", "补贴年度"),
    ("level", "补贴级别"),
    ("kind", "补贴类型"),
    ("amount", "补贴金额"),
    ("credited_date", "记账日期"),
];
pub(super) const APPROVAL: Cols = &[
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("start_month", "待遇开始年月"),
    ("basic_monthly", "基础养老金月标准"),
    ("account_monthly", "个人账户养老金月标准"),
    ("account_balance", "核定时个人账户储存额"),
    ("approve_date", "核定日期"),
];
pub(super) const PAYOUT: Cols = &[
    ("payout_no", "发放流水号"),
    ("person_no", "个人编号"),
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("month", "发放年月"),
    ("basic_amount", "基础养老金"),
    ("account_amount", "个人账户养老金"),
    ("total_amount", "发放合计"),
    ("bank_account", "银行账号"),
    ("paid_date", "发放日期"),
    ("status", "发放状态"),
];
pub(super) const CERTIFICATION: Cols = &[
    ("person_no", "个人编号"),
    ("year", "认证年度"),
    ("cert_date", "认证日期"),
    ("method", "认证方式"),
    ("result", "认证结果"),
];
pub(super) const SUSPENSION: Cols = &[
    ("person_no", "个人编号"),
    ("reason", "暂停原因"),
    ("start_month", "暂停年月"),
    ("end_month", "恢复年月"),
];
pub(super) const TRANSFER_ZH: &[&str] = &[
    "个人编号",
    "公民身份号码",
    "方向",
    "对方地区",
    "转移金额",
    "到账日期",
];
pub(super) const RECEIPT_BOOK: Cols = &[
    ("book_no", "收据本号"),
    ("first_no", "起始号码"),
    ("last_no", "终止号码"),
    ("holder", "领用人"),
    ("township", "乡镇(街道)"),
    ("issue_date", "领用日期"),
    ("settle_date", "核销日期"),
    ("amount_collected", "收款合计"),
    ("amount_deposited", "存入银行合计"),
    ("voided", "作废号码"),
];
pub(super) const FUND_LEDGER: Cols = &[
    ("account", "账户"),
    ("txn_date", "日期"),
    ("voucher_no", "凭证号"),
    ("direction", "收支"),
    ("amount", "金额"),
    ("category", "科目"),
    ("counterpart", "对方账户"),
];
pub(super) const FISCAL_NOTICE: Cols = &[
    ("notice_no", "文号"),
    ("date", "拨付日期"),
    ("level", "级次"),
    ("purpose", "用途"),
    ("amount", "金额"),
];
pub(super) const INTEREST_RATE: Cols = &[("year", "年度"), ("rate", "利率")];
pub(super) const BASIC_STANDARD: Cols = &[("from_month", "起始年月"), ("amount", "月标准")];
pub(super) const TIER_SUBSIDY: Cols = &[
    ("tier", "缴费档次"),
    ("subsidy", "补贴金额"),
    ("central", "中央"),
    ("province", "省级"),
    ("city", "市级"),
    ("county", "县级"),
];
pub(super) const ID_REGISTRY: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("township", "乡镇(街道)"),
    ("village", "村(居)"),
    ("hukou_type", "户籍性质"),
    ("in_school", "在校学生"),
    ("status", "户籍状态"),
    ("status_date", "状态日期"),
];
pub(super) const DEATH_RECORD: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("death_date", "死亡日期"),
    ("source", "信息来源"),
    ("record_date", "登记日期"),
];
pub(super) const EMPLOYEE: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("status", "参保状态"),
    ("start_date", "开始日期"),
    ("end_date", "结束日期"),
    ("employer", "单位"),
];
pub(super) const INMATE: Cols = &[
    ("id_number", "公民身份号码"),
    ("name", "姓名"),
    ("start_date", "入监日期"),
    ("end_date", "释放日期"),
];

pub(super) const METHODS: [(&str, &str); 4] = [
    ("本人", "in_person"),
    ("上门", "home_visit"),
    ("照相", "photo"),
    ("人脸识别", "face"),
];
