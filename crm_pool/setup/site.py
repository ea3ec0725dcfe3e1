"""Non-interactive ERPNext set-up for the demo and test sites (the desk's setup wizard, as a call).

bench --site SITE execute crm_pool.setup.site.complete_setup_wizard --kwargs "{'language': 'zh'}"
"""

import frappe
from frappe.utils import getdate, nowdate

COMPANY = "绿源环境科技有限公司"
COMPANY_ABBR = "LYHJ"
LANGUAGES = {"zh": "简体中文", "en": "English"}
ADMIN_EMAIL = "admin@demo.crm-pool.cn"  # the company's own System Manager (besides Administrator)


def complete_setup_wizard(language: str = "zh", company: str = COMPANY, abbr: str = COMPANY_ABBR) -> str:
	"""Run ERPNext's setup wizard for a Chinese company (CNY, China, Asia/Shanghai) unless done.

	Returns "done" or "already set up". The fiscal year is the calendar year, as in China.
	"""
	from frappe.desk.page.setup_wizard.setup_wizard import setup_complete

	if language not in LANGUAGES:
		frappe.throw(f"language must be one of {', '.join(LANGUAGES)}")
	if frappe.db.get_single_value("System Settings", "setup_complete"):
		return "already set up"
	year = getdate(nowdate()).year
	language_name = LANGUAGES[language]
	setup_complete(
		{
			"language": language_name,
			"lang": language_name,
			"country": "China",
			"timezone": "Asia/Shanghai",
			"currency": "CNY",
			"company_name": company,
			"company_abbr": abbr,
			"company_tagline": "客户资源管理",
			"chart_of_accounts": "Standard",
			"fy_start_date": f"{year}-01-01",
			"fy_end_date": f"{year}-12-31",
			"enable_telemetry": 0,
			"full_name": "系统管理员",
			"email": ADMIN_EMAIL,
			"password": frappe.conf.get("admin_password") or frappe.generate_hash(length=16),
		}
	)
	frappe.db.set_single_value("System Settings", "disable_system_update_notification", 1)
	frappe.db.commit()
	return "done"
