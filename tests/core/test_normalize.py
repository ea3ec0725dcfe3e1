"""Intake rules: USCC (GB 32100-2015), mobile, email and company-name normalization, dedupe keys,
masking."""

import hashlib

import frappe
import pytest

from crm_pool.core import normalize

# Real, valid codes (check characters verified by hand and by `uscc_check_character`).
VALID_USCCS = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


def check_character_by_hand(first17: str) -> str:
	"""GB 32100-2015: C18 = 31 - (sum of value(Ci) * 3^(i-1) mod 31) mod 31, values 0-30 over the
	charset 0-9 A-H J-N P-R T-U W-Y — written out independently of rules.py."""
	charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
	remainder = 31 - total % 31
	return charset[0 if remainder == 31 else remainder]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_real_usccs_are_valid(code):
	assert check_character_by_hand(code[:17]) == code[17]
	assert normalize.uscc_check_character(code[:17]) == code[17]
	assert normalize.validate_uscc(code) == code


def test_uscc_is_normalized_before_checking():
	assert normalize.validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"
	assert (
		normalize.validate_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
	)  # full-width


@pytest.mark.parametrize(
	"code, problem",
	[
		("91350100M000100Y4", "must have 18 characters, it has 17"),
		("91350100M000100Y433", "must have 18 characters, it has 19"),
		("91350100M000100I43", "not allowed: I"),  # I, O, S, V, Z are not in the charset
		("91350100M0001O0Y43", "not allowed: O"),
		("9135010AM000100Y43", "characters 3 to 8 must be digits"),
		("91350100M000100Y44", "wrong check character"),
		("91350100M000100Y34", "wrong check character"),  # two characters swapped
		("", "is empty"),
	],
)
def test_invalid_usccs_are_refused_with_the_problem_named(code, problem):
	with pytest.raises(frappe.ValidationError) as error:
		normalize.validate_uscc(code)
	assert problem in str(error.value)


def test_uscc_message_is_translated():
	frappe.local.lang = "zh"
	try:
		with pytest.raises(frappe.ValidationError) as error:
			normalize.validate_uscc("91350100M000100Y44")
		assert "校验码" in str(error.value)
	finally:
		frappe.local.lang = "en"


@pytest.mark.parametrize(
	"value",
	[
		"13812345678",
		"138 1234 5678",
		"138-1234-5678",
		"+86 138 1234 5678",
		"+86-138-1234-5678",
		"0086 13812345678",
		"8613812345678",
		"(+86) 138.1234.5678",
		"１３８１２３４５６７８",
	],
)
def test_mobile_spellings_normalize_to_one_number(value):
	assert normalize.normalize_mobile(value) == "13812345678"


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "021-62345678", "abc", ""])
def test_invalid_mobiles_are_refused(value):
	with pytest.raises(frappe.ValidationError) as error:
		normalize.normalize_mobile(value)
	assert "not a valid mainland China mobile number" in str(error.value)
	assert normalize.parse_mobile(value) is None


def test_email_normalization():
	assert normalize.normalize_email("  ZhangSan@Example.CN ") == "zhangsan@example.cn"
	with pytest.raises(frappe.ValidationError):
		normalize.normalize_email("zhangsan.example.cn")


@pytest.mark.parametrize(
	"variant",
	[
		"华为技术有限公司",
		"华为技术有限责任公司",
		"华为技术股份有限公司",
		"华为 技术 有限公司",
		"华为技术（有限公司）",
	],
)
def test_company_name_forms_fold_together(variant):
	assert normalize.normalize_company_name(variant) == normalize.normalize_company_name("华为技术有限公司")


def test_company_name_full_width_and_brackets():
	half = normalize.normalize_company_name("ABC环保科技(中国)有限公司")
	assert normalize.normalize_company_name("ＡＢＣ环保科技（中国）有限公司") == half
	assert normalize.normalize_company_name("abc环保科技中国有限公司") == half
	assert half == "abc环保科技中国有限公司"
	assert normalize.normalize_company_name("ABC Co., Ltd.") == normalize.normalize_company_name(
		"abc company limited"
	)
	assert normalize.normalize_company_name("华为技术有限公司") != normalize.normalize_company_name(
		"华为软件有限公司"
	)
	assert normalize.normalize_company_name(None) == ""


def test_dedupe_key_is_a_keyed_hash_of_the_value():
	assert normalize.dedupe_key("13812345678") != hashlib.sha256(b"13812345678").hexdigest()
	assert normalize.dedupe_key("13812345678") == normalize.dedupe_key("13812345678")
	assert normalize.dedupe_key("13812345678", secret=b"a") != normalize.dedupe_key(
		"13812345678", secret=b"b"
	)
	assert len(normalize.dedupe_key("x")) == 64
	assert normalize.dedupe_key("") is None


@pytest.mark.parametrize(
	"value, masked",
	[
		("13812345678", "138****5678"),
		("+86 138-1234-5678", "138****5678"),
		("021-62345678", "021-****5678"),
		("010 87654321", "010-****4321"),
		("0571-88886666", "0571-****6666"),
		("62345678", "****5678"),
		("123", "****"),
		("", ""),
		(None, ""),
	],
)
def test_mask_mobile(value, masked):
	assert normalize.mask_mobile(value) == masked


@pytest.mark.parametrize(
	"value, masked",
	[
		("zhangsan@x.cn", "zh***@x.cn"),
		("ab@x.cn", "a***@x.cn"),
		("a@x.cn", "a***@x.cn"),
		("", ""),
	],
)
def test_mask_email(value, masked):
	assert normalize.mask_email(value) == masked


@pytest.mark.parametrize(
	"address, province, city, masked",
	[
		("浙江省杭州市西湖区文三路100号", None, None, "浙江省杭州市****"),
		("上海市浦东新区世纪大道1号", None, None, "上海市****"),
		("广西壮族自治区南宁市青秀区民族大道1号", None, None, "广西壮族自治区南宁市****"),
		("浙江省杭州市", None, None, "浙江省杭州市"),
		("文三路100号", "浙江", "杭州", "浙江杭州****"),
		(None, "江苏", "南京", "江苏南京"),
		(None, "上海", "上海", "上海"),
		("某某路8号", None, None, "****"),
		(None, None, None, ""),
	],
)
def test_mask_address_keeps_province_and_city(address, province, city, masked):
	assert normalize.mask_address(address, province, city) == masked
