"""Customer grading (客户分级) and the service each grade gets (SPEC §4): rules, regrading, RFM, CLV,
exclusive managers, return visits, complaint SLAs. Empty until that issue lands."""
