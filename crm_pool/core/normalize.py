"""The pure normalisers (SPEC §1, §7): validation and normalization of what identifies a customer,
dedupe keys, masking of contact data, and free text made inert.

- `validate_uscc`: 统一社会信用代码 (GB 32100-2015): 18 characters, check character.
- `normalize_mobile`, `normalize_email`, `normalize_company_name`: one form per customer, so that
  +86 138-1234-5678 and 13812345678, or 华为技术（中国）有限责任公司 and 华为技术(中国)有限公司, compare equal.
- `dedupe_key`: keyed hash (HMAC-SHA256 with a per-site secret) of a normalized value: mobile, email
  and company name are compared by key; a key cannot be recomputed from a guessed value without the
  site's secret (see `dedupe_secret`).
- `mask_mobile`, `mask_email`, `mask_address`: what a user who may not see the full value reads.
- `clean_text`: free text (reasons, notes) with any markup reduced to inert formatting.

Every function is pure (no database); invalid input raises frappe.ValidationError with a translated
message naming the problem.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

import frappe
from frappe import _
from frappe.utils.html_utils import clean_html

# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------------

USCC_LENGTH = 18
# The 31 characters of the code: digits and capital letters without I, O, S, V, Z. A character's
# position in this string is its value in the check-character computation.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^(i) mod 31


def uscc_check_character(first17: str) -> str:
	"""The check character (18th) of a code whose first 17 characters are given (GB 32100-2015 §6)."""
	total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
	return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str | None) -> str:
	"""Return the code normalized (half-width, upper case, no spaces) or raise a ValidationError.

	Checks: 18 characters; only the 31 allowed characters; characters 3–8 (the administrative
	division code) are digits; the last character is the check character of the first 17.
	"""
	normalized = re.sub(r"\s+", "", unicodedata.normalize("NFKC", code or "")).upper()
	if not normalized:
		frappe.throw(_("Unified Social Credit Code is empty"), title=_("Invalid Unified Social Credit Code"))
	if len(normalized) != USCC_LENGTH:
		frappe.throw(
			_("Unified Social Credit Code {0} must have 18 characters, it has {1}").format(
				normalized, len(normalized)
			),
			title=_("Invalid Unified Social Credit Code"),
		)
	invalid = sorted({char for char in normalized if char not in USCC_CHARSET})
	if invalid:
		frappe.throw(
			_(
				"Unified Social Credit Code {0} contains characters that are not allowed: {1}. "
				"Allowed are digits and capital letters except I, O, S, V and Z"
			).format(normalized, " ".join(invalid)),
			title=_("Invalid Unified Social Credit Code"),
		)
	if not normalized[2:8].isdigit():
		frappe.throw(
			_(
				"Unified Social Credit Code {0}: characters 3 to 8 must be digits (the administrative division code)"
			).format(normalized),
			title=_("Invalid Unified Social Credit Code"),
		)
	if uscc_check_character(normalized[:17]) != normalized[17]:
		frappe.throw(
			_(
				"Unified Social Credit Code {0} has a wrong check character (the last character): please check it for typing errors"
			).format(normalized),
			title=_("Invalid Unified Social Credit Code"),
		)
	return normalized


# --- mobile, email, company name -----------------------------------------------------------------

MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
PHONE_SEPARATORS = re.compile(r"[\s\-().·]")


def _phone_digits(value: str | None) -> str:
	"""Half-width, without spaces, dashes, dots and parentheses."""
	return PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))


def parse_mobile(value: str | None) -> str | None:
	"""The 11-digit mainland China mobile number in `value`, or None when it is not one.

	Accepts a +86 / 0086 / 86 country prefix, spaces, dashes, dots, parentheses and full-width digits:
	"+86 138-1234-5678", "0086 13812345678" and "(86)13812345678" all give "13812345678".
	"""
	number = _phone_digits(value)
	if number.startswith("+86"):
		number = number[3:]
	elif number.startswith("0086"):
		number = number[4:]
	elif number.startswith("86") and len(number) == 13:
		number = number[2:]
	return number if MAINLAND_MOBILE.fullmatch(number) else None


def normalize_mobile(value: str | None) -> str:
	"""Return the 11-digit mainland China mobile number (see `parse_mobile`), or raise a ValidationError."""
	number = parse_mobile(value)
	if not number:
		frappe.throw(
			_(
				"{0} is not a valid mainland China mobile number: it must have 11 digits starting with 13 to 19, optionally after +86"
			).format(value or ""),
			title=_("Invalid Mobile Number"),
		)
	return number


def normalize_email(value: str | None) -> str:
	"""Return the email address trimmed, half-width and lower-case, or raise a ValidationError."""
	email = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).lower()
	if not re.fullmatch(r"[^@]+@[^@]+\.[^@]+", email):
		frappe.throw(_("{0} is not a valid email address").format(value or ""), title=_("Invalid Email"))
	return email


# Company-form suffixes folded to one form (longest first); "Co., Ltd." variants likewise.
COMPANY_FORMS = (
	("股份有限公司", "有限公司"),
	("有限责任公司", "有限公司"),
	("companylimited", "ltd"),
	("colimited", "ltd"),
	("coltd", "ltd"),
	("limited", "ltd"),
)


def normalize_company_name(value: str | None) -> str:
	"""One form of a company name, for finding duplicates.

	NFKC (full-width letters, digits and brackets become half-width), lower case, without spaces,
	punctuation or symbols, and 股份有限公司 / 有限责任公司 folded to 有限公司 (Co., Ltd. / Limited to
	ltd). Brackets are punctuation, so 华为技术（中国）有限公司 and 华为技术(中国)有限公司 and
	华为技术中国有限公司 give the same form. An empty name gives "".
	"""
	text = unicodedata.normalize("NFKC", value or "").lower()
	text = "".join(char for char in text if unicodedata.category(char)[0] not in "PZSC")
	for variant, form in COMPANY_FORMS:
		text = text.replace(variant, form)
	return text


# The dedupe secret is derived from the site's `encryption_key` (site_config.json, the key Frappe
# encrypts passwords with; created on first use): one secret per site, never stored in the database.
# Changing the encryption_key makes every stored key stale (re-adopt the parties to rebuild them).
DEDUPE_KEY_PURPOSE = b"crm_pool dedupe key v1"


def dedupe_secret() -> bytes:
	"""The site's secret for dedupe keys: HMAC-SHA256 of a fixed purpose string under the site's
	encryption_key (so the encryption key itself is never used as an HMAC key elsewhere)."""
	from frappe.utils.password import get_encryption_key

	return _derive_secret(get_encryption_key())


@lru_cache(maxsize=16)
def _derive_secret(site_key: str) -> bytes:
	return hmac.new(site_key.encode("utf-8"), DEDUPE_KEY_PURPOSE, hashlib.sha256).digest()


def dedupe_key(value: str | None, secret: bytes | None = None) -> str | None:
	"""Keyed hash of an already normalized value (None for an empty value): compared, never shown.

	HMAC-SHA256 under the site's `dedupe_secret` of the SHA-256 hex of the value. Without the secret a
	guessed number cannot be turned into its key; the inner SHA-256 lets the keys stored by earlier
	versions (plain SHA-256) be re-keyed in SQL (`dedupe_key_sql`, patch rekey_dedupe_keys).
	"""
	if not value:
		return None
	inner = hashlib.sha256(value.encode("utf-8")).hexdigest()
	return hmac.new(secret or dedupe_secret(), inner.encode("ascii"), hashlib.sha256).hexdigest()


def mobile_key(value: str | None) -> str | None:
	"""Dedupe key of a mobile number; a number that is not a mainland mobile is keyed by its digits."""
	if not value:
		return None
	return dedupe_key(parse_mobile(value) or "".join(ch for ch in value if ch.isdigit()))


def email_key(value: str | None) -> str | None:
	return dedupe_key(value.strip().lower()) if value else None


def dedupe_key_sql(inner_hex_sql: str, secret: bytes | None = None) -> tuple[str, dict]:
	"""SQL computing `dedupe_key` from an expression giving the inner SHA-256 hex (e.g.
	"SHA2(col, 256)" or a stored plain SHA-256 key), for set-based writers (adoption patches, bulk
	data): HMAC-SHA256 written out (RFC 2104) with the padded secret passed as parameters.
	Returns (sql, values); NULL in gives NULL out."""
	key = secret or dedupe_secret()
	if len(key) > 64:
		key = hashlib.sha256(key).digest()
	key = key.ljust(64, b"\0")
	ipad = bytes(b ^ 0x36 for b in key).hex()
	opad = bytes(b ^ 0x5C for b in key).hex()
	sql = (
		"LOWER(SHA2(CONCAT(UNHEX(%(_dk_opad)s), UNHEX(SHA2(CONCAT(UNHEX(%(_dk_ipad)s), "
		f"CAST(({inner_hex_sql}) AS BINARY)), 256))), 256))"
	)
	return sql, {"_dk_ipad": ipad, "_dk_opad": opad}


# --- masking (138****5678) -----------------------------------------------------------------------

MASK = "****"


def mask_mobile(value: str | None) -> str:
	"""Mask a phone number, keeping what identifies its kind and the last four digits.

	Mainland mobile (any accepted spelling): "13812345678" -> "138****5678". Landline with an area
	code: "021-62345678" -> "021-****5678", "0571 88886666" -> "0571-****6666". Anything else keeps
	its last four digits at most ("62345678" -> "****5678"). Empty gives "".
	"""
	if not value:
		return ""
	if mobile := parse_mobile(value):
		return f"{mobile[:3]}{MASK}{mobile[-4:]}"
	digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
	if digits.startswith("0") and len(digits) >= 10:
		area = digits[:3] if digits[1] in "12" else digits[:4]  # 010, 02x; else 0xxx
		return f"{area}-{MASK}{digits[-4:]}"
	if len(digits) >= 7:
		return f"{MASK}{digits[-4:]}"
	return MASK


def mask_email(value: str | None) -> str:
	"""Keep the first two characters of the local part and the domain: "zhangsan@x.cn" -> "zh***@x.cn"."""
	if not value:
		return ""
	email = value.strip()
	local, at, domain = email.partition("@")
	if not at:
		return "***"
	keep = max(1, min(2, len(local) - 1))
	return f"{local[:keep]}***@{domain}"


PROVINCE_PART = re.compile(r"^(.+?(?:省|自治区|特别行政区))")
CITY_PART = re.compile(r"^(.+?(?:市|自治州|地区|盟))")


def mask_address(address: str | None, province: str | None = None, city: str | None = None) -> str:
	"""Keep the province and city of an address and mask the rest.

	"浙江省杭州市西湖区文三路100号" -> "浙江省杭州市****"; "上海市浦东新区世纪大道1号" -> "上海市****".
	Province and city may instead be given as fields (a Lead's state and city): then they are what is
	kept, and any address text is masked: mask_address("文三路100号", "浙江", "杭州") -> "浙江杭州****".
	Nothing known gives "".
	"""
	text = re.sub(r"<[^>]+>|\s+", "", unicodedata.normalize("NFKC", address or ""))
	if province or city:
		parts = [part.strip() for part in (province, city) if part and part.strip()]
		kept = "".join(dict.fromkeys(parts))  # 上海/上海 once
		return kept + (MASK if text else "")
	kept = ""
	if match := PROVINCE_PART.match(text):
		kept, text = match.group(1), text[match.end() :]
	if match := CITY_PART.match(text):
		kept, text = kept + match.group(1), text[match.end() :]
	return kept + (MASK if text else "")


def full_address(address: str | None, province: str | None = None, city: str | None = None) -> str:
	"""The address as `mask_address` reads it, unmasked (for a pool that does not mask addresses):
	province and city fields, then the address text without markup."""
	text = re.sub(r"<[^>]+>", " ", unicodedata.normalize("NFKC", address or ""))
	text = re.sub(r"\s+", " ", text).strip(" ,")
	kept = "".join(dict.fromkeys(part.strip() for part in (province, city) if part and part.strip()))
	return text if text.startswith(kept) else kept + text


def mask_person_name(name: str | None) -> str:
	"""A person's name as non-owners see it: 张伟 -> 张*, 王建国 -> 王**."""
	if not name:
		return ""
	return name[0] + "*" * max(1, len(name) - 1)


# --- free text -------------------------------------------------------------------------------------

# What a browser would read as markup: a tag, a closing tag, a comment or a declaration.
MARKUP = re.compile(r"<[A-Za-z!/?]")


def clean_text(value: str | None) -> str | None:
	"""Plain text kept as it is (a bare "<" or "->" included); text with markup in it reduced to inert
	formatting (scripts, styles, attributes and other tags removed)."""
	if not value or not isinstance(value, str) or not MARKUP.search(value):
		return value
	return clean_html(value).strip()
