"""Record-level access (SPEC §7): who reads and changes which customer, through every path Frappe and
ERPNext offer (list, form, report, search, global search, export, print, REST, ERPNext's methods)."""
